/* tf_scenario.h: a scenario as the driver uses it: every key of CONTRACT.md's scenario files,
 * in the units of the docs (lengths um, times min), after file, --set overrides and defaults.
 *
 * Keys are declared once in host/scenario_keys.def (section, key, unit kind, default, range,
 * help); the README key table is checked against that list by a test. */
#ifndef TF_SCENARIO_H
#define TF_SCENARIO_H

#include "tf_model.h"
#include "tf_solver.h"
#include "tf_systemic.h"

#include <stdint.h>

#define TF_PATH_MAX 1024
#define TF_NAME_MAX 128

typedef struct {
    /* [run] */
    char name[TF_NAME_MAX];  /* output base name: letters, digits, '-', '_', '.' */
    double duration;         /* min, > 0 */
    double dt;               /* min, > 0 */
    tf_scheme scheme;
    uint64_t seed;           /* vessel network and any other randomness */
    /* [grid] */
    tf_index n[3];           /* cells in x, y, z */
    double spacing;          /* um */
    /* [output] */
    char dir[TF_PATH_MAX];
    double interval;          /* min between NetCDF records; the final state is always written */
    double series_interval;   /* min between time-series rows (output.timeseries_interval) */
    unsigned fields_mask;     /* bit f: field f is written */
    int compression;          /* deflate level 0-9 */
    /* [checkpoint] */
    double checkpoint_interval; /* min; 0: only at the end and on a signal */
    /* [patient] */
    double depression;        /* D0, 0..1 */
    /* [exercise] */
    tf_schedule exercise;
    /* [tumor] */
    double tumor_radius;      /* um */
    double tumor_density;     /* T inside the spheroid, 0..1 */
    /* [initial] */
    char initial_file[TF_PATH_MAX]; /* NetCDF with variables named as the fields; "" = default */
    /* [vessels] */
    double vessel_fraction;   /* target volume fraction, 0..1 */
    double vessel_radius;     /* um */
    char vessel_file[TF_PATH_MAX];    /* NetCDF vessel map; "" = generate */
    char vessel_variable[TF_NAME_MAX]; /* its variable name (default "vessel") */
    /* [model] */
    tf_params p;
    /* [boundary] */
    tf_bcs bcs;

    /* Where it came from, for messages. */
    char source[TF_PATH_MAX];
} tf_scenario;

#ifdef __cplusplus
extern "C" {
#endif

/* Every key at its default. */
void tf_scenario_defaults(tf_scenario *s);

/* Read `path` (INI), then apply `sets` ("section.key=value", later wins), then validate.
 * Errors (TF_ERR_USAGE) name the file, the line (or "--set") and the key, and say what was
 * expected. TF_ERR_IO when the file cannot be read. */
tf_status tf_scenario_load(tf_scenario *s, const char *path, const char *const *sets, int nsets);

/* The same from the bytes of the file, read before (tf_scenario_read_text): every process of
 * an MPI job parses the text one of them read, whatever the others would find at `path` (a
 * file replaced while the job starts, node-local copies, standard input, which mpirun gives
 * to one process). `path` names the file in messages and in the effective scenario. */
tf_status tf_scenario_load_text(tf_scenario *s, const char *path, const char *text, size_t len,
                                const char *const *sets, int nsets);
/* The bytes of scenario file `path` (into *text, malloc'ed, not terminated; *len bytes), up to
 * a little past the size a scenario may have, for tf_scenario_load_text to judge. TF_ERR_IO
 * when it cannot be read, with the message of tf_scenario_load. */
tf_status tf_scenario_read_text(const char *path, char **text, size_t *len);

/* Whether `key` of `section` takes a real value with a unit (a rate, a time, a length...) and
 * `value` is one: then 1 and the value in the key's base unit in *out (infinity for an end of
 * "none"); else 0 (another kind of key, an unknown key, or a value that does not parse). */
int tf_scenario_real_value(const char *section, const char *key, const char *value, double *out);

/* The effective scenario as INI text with every key, in documented units; caller frees. It
 * loads back (tf_scenario_load) to the same scenario. */
char *tf_scenario_format(const tf_scenario *s);

/* Check relations between keys (periodic pairs, explicit dt limit, grid memory). */
tf_status tf_scenario_validate(const tf_scenario *s);

#ifdef __cplusplus
}
#endif

#endif
