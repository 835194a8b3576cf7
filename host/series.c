/* series.c: the time series NAME.timeseries.csv (one row per diagnostics interval) and the
 * run summary NAME.summary.json (docs/output.md).
 *
 * The CSV columns and the summary's "final" object share one list of names (row_columns), so
 * the two always agree. Both files survive a crash: the CSV is flushed after every row and
 * rewritten atomically on a restart, the summary is written to PATH.tmp and renamed. */
#include "tf_io.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tf_series {
    FILE *fp;
    char path[TF_PATH_MAX];
    double last_t; /* time of the last row in the file; NAN when there is none */
};

tf_series_row tf_series_row_make(double t, const tf_diag *d, const tf_grid *g,
                                 const tf_drivers *drv, const tf_derived *der)
{
    tf_series_row r;
    memset(&r, 0, sizeof r);
    r.t = t;
    r.tumor_volume = d->tumor_sum * g->h * g->h * g->h * 1e-9; /* um^3 -> mm^3 */
    for (int f = 0; f < TF_NFIELDS; ++f)
        r.mean_in_tumor[f] = d->tumor_sum > 0.0 ? d->weighted[f] / d->tumor_sum : 0.0;
    /* Effector density in the tumor over that of the whole domain: 1 where the tumor holds its
     * share, below 1 where effectors are kept out (immune exclusion), above where they home in.
     * (Not sum(T E) / sum(E): with E nearly uniform that is the tumor's share of the domain.) */
    const double cells = (double)g->gn[0] * (double)g->gn[1] * (double)g->gn[2];
    r.effector_infiltration = d->tumor_sum > 0.0 && d->total[TF_EFFECTOR] > 0.0
                                  ? (d->weighted[TF_EFFECTOR] / d->tumor_sum) /
                                        (d->total[TF_EFFECTOR] / cells)
                                  : 0.0;
    r.drv = *drv;
    r.der = *der;
    return r;
}

/* ---- the columns ---- */

enum { NCOLS = 3 + TF_NFIELDS + 1 + 3 + 7 };

typedef struct {
    char name[64];
    double value;
} column;

/* Names and values of a row's columns, in file order. The mean of field f inside the tumor is
 * mean_<field>_in_tumor, followed by its units with '/' as '_' unless dimensionless. */
static void row_columns(const tf_series_row *r, column c[NCOLS])
{
    int n = 0;
#define COL(nm, v)                                           \
    do {                                                     \
        snprintf(c[n].name, sizeof c[n].name, "%s", (nm));   \
        c[n++].value = (v);                                  \
    } while (0)
    COL("time_min", r->t);
    COL("time_d", r->t / 1440.0);
    COL("tumor_volume_mm3", r->tumor_volume);
    for (int f = 0; f < TF_NFIELDS; ++f) {
        char nm[64];
        int len = snprintf(nm, sizeof nm, "mean_%s_in_tumor", tf_field_name[f]);
        if (strcmp(tf_field_units[f], "1") != 0) {
            len += snprintf(nm + len, sizeof nm - (size_t)len, "_%s", tf_field_units[f]);
            for (char *p = nm; *p; ++p)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9')))
                    *p = '_';
        }
        COL(nm, r->mean_in_tumor[f]);
    }
    COL("effector_infiltration", r->effector_infiltration);
    COL("x", r->drv.x);
    COL("z", r->drv.z);
    COL("L", r->drv.L);
    COL("I", r->der.I);
    COL("B", r->der.B);
    COL("O", r->der.O);
    COL("D", r->der.D);
    COL("C_b", r->der.C_b);
    COL("M_E", r->der.M_Eff);
    COL("A_b", r->der.A_b);
#undef COL
}

/* The header line without its newline. */
static void header_line(char *buf, size_t len)
{
    tf_series_row zero;
    memset(&zero, 0, sizeof zero);
    column c[NCOLS];
    row_columns(&zero, c);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < NCOLS && used < len; ++i)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", c[i].name);
}

/* ---- the CSV ---- */

/* Replace the file `path` by `len` bytes of text and, where `line_end`, a newline: written to
 * PATH.tmp, closed and renamed over it, so the file is the old one or the new one whole (an
 * earlier run's file, whoever wrote it, is replaced, not written into); `what` names it in
 * errors. */
static tf_status replace_file(const char *path, const char *what, const char *text, size_t len,
                              int line_end)
{
    char tmp[TF_PATH_MAX + 8];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return TF_ERROR(TF_ERR_USAGE, "%s path '%s' is too long", what, path);
    FILE *fp = fopen(tmp, "w");
    if (!fp)
        return TF_ERROR(TF_ERR_IO, "cannot create %s '%s': %s", what, tmp, strerror(errno));
    int bad = fwrite(text, 1, len, fp) != len;
    if (line_end)
        bad |= fputc('\n', fp) == EOF;
    bad |= fclose(fp) != 0;
    if (bad) {
        remove(tmp);
        return TF_ERROR(TF_ERR_IO, "cannot write %s '%s': %s", what, tmp, strerror(errno));
    }
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return TF_ERROR(TF_ERR_IO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    }
    return TF_OK;
}

/* Rows from here on go to the end of the time series. */
static tf_status series_append(tf_series *s)
{
    s->fp = fopen(s->path, "a");
    if (!s->fp)
        return TF_ERROR(TF_ERR_IO, "cannot append to time series '%s': %s", s->path,
                        strerror(errno));
    return TF_OK;
}

/* A new file with the header (replacing an earlier run's, as its NetCDF file is). */
static tf_status series_fresh(tf_series *s)
{
    char header[2048];
    header_line(header, sizeof header);
    TF_TRY(replace_file(s->path, "time series", header, strlen(header), 1));
    return series_append(s);
}

/* Read a whole file into a NUL-terminated buffer (caller frees). */
static tf_status slurp(FILE *fp, const char *path, char **out, size_t *outlen)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate a buffer for '%s'", path);
    for (;;) {
        if (cap - len < 2) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return TF_ERROR(TF_ERR_NOMEM, "cannot allocate a buffer for '%s'", path);
            }
            buf = nb;
            cap *= 2;
        }
        const size_t got = fread(buf + len, 1, cap - len - 1, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        free(buf);
        return TF_ERROR(TF_ERR_IO, "cannot read time series '%s': %s", path, strerror(errno));
    }
    buf[len] = '\0';
    *out = buf;
    *outlen = len;
    return TF_OK;
}

/* What a restart at time t keeps of a time series: the file's text, the bytes kept (the header
 * and the leading complete rows with time <= t, tolerance TF_TIME_TOL; a row cut short by a
 * crash, without a newline or a number first, ends them), the time of the last row kept and of
 * the last one before t. *text NULL (nothing read) when the file does not exist or is empty. */
typedef struct {
    char *text;
    size_t len, keep;
    double last_t, last_before;
} series_scan;

/* Whether `line` starts as a row of this program does: a finite time and a comma (into *t). */
static int row_time(const char *line, double *t)
{
    char *e;
    *t = strtod(line, &e);
    return e != line && *e == ',' && isfinite(*t);
}

/* Whether a row at or before time `until` follows `p` (a line of sc's text): a damaged line
 * followed by one is damage in the rows a restart keeps. */
static int rows_due_after(const char *p, const series_scan *sc, double until)
{
    const char *end_text = sc->text + sc->len;
    while (p < end_text) {
        const char *nl = memchr(p, '\n', (size_t)(end_text - p));
        if (!nl)
            return 0;
        double tr;
        if (row_time(p, &tr) && tr <= until)
            return 1;
        p = nl + 1;
    }
    return 0;
}

static tf_status scan_restart(const char *path, double t, series_scan *sc)
{
    *sc = (series_scan){NULL, 0, 0, NAN, NAN};
    FILE *in = fopen(path, "r");
    if (!in) {
        if (errno == ENOENT)
            return TF_OK;
        return TF_ERROR(TF_ERR_IO, "cannot read time series '%s' for the restart: %s", path,
                        strerror(errno));
    }
    const tf_status st = slurp(in, path, &sc->text, &sc->len);
    fclose(in);
    TF_TRY(st);
    if (sc->len == 0) {
        free(sc->text);
        sc->text = NULL;
        return TF_OK;
    }
    char header[2048];
    header_line(header, sizeof header);
    const size_t hlen = strlen(header);
    if (strncmp(sc->text, header, hlen) != 0 || sc->text[hlen] != '\n') {
        free(sc->text);
        sc->text = NULL;
        return TF_ERROR(TF_ERR_USAGE,
                        "time series '%s' has other columns than this version writes (expected "
                        "the header '%s'): keep it elsewhere and leave an empty file in its "
                        "place (: > '%s') to restart with a new time series",
                        path, header, path);
    }
    const double tol = TF_TIME_TOL * fmax(1.0, fabs(t));
    sc->keep = hlen + 1;
    for (int lineno = 2; sc->keep < sc->len; ++lineno) {
        const char *line = sc->text + sc->keep;
        const char *nl = memchr(line, '\n', sc->len - sc->keep);
        if (!nl)
            break; /* a last row cut short (a crash while writing it): dropped */
        double tr;
        const int is_row = row_time(line, &tr);
        if (!is_row && !rows_due_after(nl + 1, sc, t + tol))
            break; /* damage only among the rows after the restart's time, which it drops */
        if (!is_row) {
            const int n = (int)(nl - line);
            free(sc->text);
            sc->text = NULL;
            return TF_ERROR(TF_ERR_USAGE,
                            "time series '%s': line %d ('%.*s%s') is not a row of this program "
                            "(a damaged or edited file): restore the file, or make it empty "
                            "(: > '%s') and the restart starts a new one without the rows before",
                            path, lineno, n < 40 ? n : 40, line, n > 40 ? "..." : "", path);
        }
        if (!(tr <= t + tol))
            break;
        sc->keep = (size_t)(nl - sc->text) + 1;
        sc->last_t = tr;
        if (tr < t - tol)
            sc->last_before = tr;
    }
    return TF_OK;
}

/* TF_ERR_USAGE when entries of a file (records, rows) are missing before a restart at t: the
 * last one kept before t is not the last one due before t (t_due; negative: none due). */
tf_status tf_restart_gap(const char *path, const char *what, double t, double t_due,
                         double last_before)
{
    const double tol = TF_TIME_TOL * fmax(1.0, fabs(t));
    if (t_due < 0.0 || last_before >= t_due - tol)
        return TF_OK;
    char have[64] = "none";
    if (!isnan(last_before))
        snprintf(have, sizeof have, "the last at t = %.9g min", last_before);
    return TF_ERROR(TF_ERR_USAGE,
                    "restart at t = %.9g min: '%s' lacks the %s of t = %.9g min (it holds %s "
                    "before the checkpoint's time): the checkpoint is not from the run that "
                    "wrote this file (a later run of the same name replaced it?); restart from "
                    "that run's own checkpoint, or start afresh",
                    t, path, what, t_due, have);
}

tf_status tf_series_check_restart(const char *path, double t, double t_due)
{
    series_scan sc;
    TF_TRY(scan_restart(path, t, &sc));
    if (!sc.text) {
        struct stat st;
        if (t_due >= 0.0 && stat(path, &st) != 0 && errno == ENOENT)
            return TF_ERROR(TF_ERR_USAGE,
                            "restart at t = %.9g min: the time series '%s' is not there, but "
                            "its rows up to t = %.9g min are due before the checkpoint's time "
                            "and a restart only adds the later ones; restore the file (or let "
                            "--output name the directory that holds the run's files), or make "
                            "it empty (: > '%s') to start a new time series at t = %.9g min "
                            "without them",
                            t, path, t_due, path, t);
        return TF_OK; /* an empty file (or none, with no row due): the restart starts it */
    }
    free(sc.text);
    return tf_restart_gap(path, "row", t, t_due, sc.last_before);
}

/* Restart at time t: keep what scan_restart keeps (replace_file) and append from there. */
static tf_status series_restart(tf_series *s, double t)
{
    series_scan sc;
    TF_TRY(scan_restart(s->path, t, &sc));
    if (!sc.text)
        return series_fresh(s);
    char *text = sc.text;
    const size_t keep = sc.keep;
    s->last_t = sc.last_t;

    const tf_status st = replace_file(s->path, "time series", text, keep, 0);
    free(text);
    TF_TRY(st);
    return series_append(s);
}

tf_status tf_series_open(tf_series **out, const char *path, int restart, double t)
{
    *out = NULL;
    if (strlen(path) >= TF_PATH_MAX)
        return TF_ERROR(TF_ERR_USAGE, "time series path '%s' is longer than %d characters",
                        path, TF_PATH_MAX - 1);
    tf_series *s = calloc(1, sizeof *s);
    if (!s)
        return TF_ERROR(TF_ERR_NOMEM, "cannot allocate the time series writer");
    snprintf(s->path, sizeof s->path, "%s", path);
    s->last_t = NAN;
    const tf_status st = restart ? series_restart(s, t) : series_fresh(s);
    if (st != TF_OK) {
        if (s->fp)
            fclose(s->fp);
        free(s);
        return st;
    }
    *out = s;
    return TF_OK;
}

tf_status tf_series_write(tf_series *s, const tf_series_row *row)
{
    column c[NCOLS];
    row_columns(row, c);
    int bad = 0;
    for (int i = 0; i < NCOLS; ++i)
        bad |= fprintf(s->fp, "%s%.9g", i ? "," : "", c[i].value) < 0;
    bad |= fputc('\n', s->fp) == EOF;
    bad |= fflush(s->fp) != 0;
    if (bad)
        return TF_ERROR(TF_ERR_IO, "cannot write time series '%s': %s", s->path,
                        strerror(errno));
    s->last_t = row->t;
    return TF_OK;
}

double tf_series_last_time(const tf_series *s) { return s ? s->last_t : NAN; }

tf_status tf_series_close(tf_series *s)
{
    if (!s)
        return TF_OK;
    const int rc = s->fp ? fclose(s->fp) : 0;
    char path[TF_PATH_MAX];
    snprintf(path, sizeof path, "%s", s->path);
    free(s);
    if (rc != 0)
        return TF_ERROR(TF_ERR_IO, "cannot close time series '%s': %s", path, strerror(errno));
    return TF_OK;
}

/* ---- the summary ---- */

static cJSON *summary_json(const tf_summary *sm)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    int ok = 1;
#define OKP(x) ok &= (x) != NULL
    OKP(sm->status ? cJSON_AddStringToObject(root, "status", sm->status)
                   : cJSON_AddNullToObject(root, "status"));
    OKP(cJSON_AddNumberToObject(root, "steps", (double)sm->steps));
    OKP(cJSON_AddNumberToObject(root, "t_end_min", sm->t_end));
    OKP(cJSON_AddNumberToObject(root, "wall_seconds", sm->wall_seconds));
    OKP(sm->backend ? cJSON_AddStringToObject(root, "backend", sm->backend)
                    : cJSON_AddNullToObject(root, "backend"));
    OKP(sm->device ? cJSON_AddStringToObject(root, "device", sm->device)
                   : cJSON_AddNullToObject(root, "device"));
    OKP(cJSON_AddNumberToObject(root, "voxel_updates_per_second",
                                sm->voxel_updates_per_second));
    OKP(cJSON_AddStringToObject(root, "tumorfield_version", TF_VERSION_STRING));
    OKP(cJSON_AddStringToObject(root, "tumorfield_commit", tf_build_commit));
    OKP(cJSON_AddStringToObject(root, "precision", TF_REAL_NAME));

    cJSON *stages = cJSON_AddObjectToObject(root, "stages");
    OKP(stages);
    if (stages && sm->timers)
        for (int i = 0; i < TF_NSTAGES; ++i) {
            cJSON *st = cJSON_AddObjectToObject(stages, tf_stage_name[i]);
            OKP(st);
            if (st) {
                OKP(cJSON_AddNumberToObject(st, "seconds", sm->timers->seconds[i]));
                OKP(cJSON_AddNumberToObject(st, "calls", (double)sm->timers->calls[i]));
            }
        }

    if (sm->final_row) {
        cJSON *fin = cJSON_AddObjectToObject(root, "final");
        OKP(fin);
        column c[NCOLS];
        row_columns(sm->final_row, c);
        for (int i = 0; fin && i < NCOLS; ++i)
            OKP(cJSON_AddNumberToObject(fin, c[i].name, c[i].value));
    } else {
        OKP(cJSON_AddNullToObject(root, "final"));
    }

    cJSON *outs = cJSON_AddObjectToObject(root, "outputs");
    OKP(outs);
    const char *keys[3] = {"netcdf", "timeseries", "checkpoint"};
    const char *vals[3] = {sm->output_path, sm->series_path, sm->checkpoint_path};
    for (int i = 0; outs && i < 3; ++i)
        OKP(vals[i] ? cJSON_AddStringToObject(outs, keys[i], vals[i])
                    : cJSON_AddNullToObject(outs, keys[i]));
#undef OKP
    if (!ok) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* cJSON_Print indents with tabs and writes "key":<tab>value; make that two spaces per level
 * and "key": value, the common layout that line-based tools expect. Tabs inside strings are
 * escaped by cJSON, so every raw tab is layout. Caller frees with free(). */
static char *json_text(const cJSON *root)
{
    char *raw = cJSON_Print(root);
    if (!raw)
        return NULL;
    size_t n = 0;
    for (const char *p = raw; *p; ++p)
        n += *p == '\t' ? 2 : 1;
    char *out = malloc(n + 1), *q = out;
    if (out) {
        for (const char *p = raw; *p; ++p) {
            if (*p != '\t')
                *q++ = *p;
            else if (p > raw && p[-1] == ':')
                *q++ = ' ';
            else {
                *q++ = ' ';
                *q++ = ' ';
            }
        }
        *q = '\0';
    }
    cJSON_free(raw);
    return out;
}

tf_status tf_summary_write(const char *path, const tf_summary *sm)
{
    cJSON *root = summary_json(sm);
    if (!root)
        return TF_ERROR(TF_ERR_NOMEM, "cannot build the summary JSON for '%s'", path);
    char *text = json_text(root);
    cJSON_Delete(root);
    if (!text)
        return TF_ERROR(TF_ERR_NOMEM, "cannot print the summary JSON for '%s'", path);

    const tf_status st = replace_file(path, "summary", text, strlen(text), 1);
    free(text);
    return st;
}
