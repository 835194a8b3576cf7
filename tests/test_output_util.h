/* test_output_util.h: helpers of the output and initial-state tests: a scenario (the defaults
 * with the keys under test set explicitly), a host state of padded arrays, a seeded generator
 * of test data and a scratch directory. Header-only (static functions). Include after
 * defining _POSIX_C_SOURCE (mkdtemp). */
#ifndef TEST_OUTPUT_UTIL_H
#define TEST_OUTPUT_UTIL_H

#include "tf_io.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The scenario defaults (tf_scenario_defaults) on an nx*ny*nz grid, with the keys the I/O
 * code reads set explicitly, so the tests do not move when a default does. */
static inline void to_scenario(tf_scenario *s, tf_index nx, tf_index ny, tf_index nz, double h)
{
    tf_scenario_defaults(s);
    snprintf(s->name, sizeof s->name, "test");
    s->duration = 1440.0;
    s->dt = 1.0;
    s->seed = 42;
    s->n[0] = nx;
    s->n[1] = ny;
    s->n[2] = nz;
    s->spacing = h;
    s->fields_mask = (1u << TF_NFIELDS) - 1;
    s->compression = 0;
    s->tumor_radius = 200.0;
    s->tumor_density = 0.8;
    s->vessel_fraction = 0.03;
    s->vessel_radius = 10.0;
    s->initial_file[0] = s->vessel_file[0] = '\0';
    snprintf(s->vessel_variable, sizeof s->vessel_variable, "vessel");
    tf_params_default(&s->p);
}

typedef struct {
    tf_grid g;
    tf_real *f[TF_NFIELDS]; /* padded, g.nalloc each */
    tf_real *v;             /* padded vessel map */
} to_state;

static inline void to_state_init(to_state *st, const tf_grid *g)
{
    st->g = *g;
    for (int f = 0; f < TF_NFIELDS; ++f)
        if (!(st->f[f] = calloc((size_t)g->nalloc, sizeof(tf_real))))
            abort();
    if (!(st->v = calloc((size_t)g->nalloc, sizeof(tf_real))))
        abort();
}

static inline void to_state_free(to_state *st)
{
    for (int f = 0; f < TF_NFIELDS; ++f)
        free(st->f[f]);
    free(st->v);
}

/* Test data: a 64-bit LCG (Knuth's MMIX constants), uniform in [0, 1). */
static inline double to_rand(uint64_t *x)
{
    *x = *x * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    return (double)(*x >> 11) * 0x1.0p-53;
}

/* Fill the interior of every field and the vessel map with random values, ghosts with -1
 * (which must never reach a file). */
static inline void to_state_random(to_state *st, uint64_t seed)
{
    const tf_grid *g = &st->g;
    for (tf_index p = 0; p < g->nalloc; ++p) {
        for (int f = 0; f < TF_NFIELDS; ++f)
            st->f[f][p] = -1;
        st->v[p] = -1;
    }
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i) {
                const tf_index p = tf_at(g, i, j, k);
                for (int f = 0; f < TF_NFIELDS; ++f)
                    st->f[f][p] = (tf_real)(to_rand(&seed) * (f + 1) * 10.0);
                st->v[p] = (tf_real)to_rand(&seed);
            }
}

/* A fresh scratch directory under TMPDIR (or /tmp); path into buf. */
static inline void to_tmpdir(char *buf, size_t len)
{
    const char *base = getenv("TMPDIR");
    snprintf(buf, len, "%s/tf_output_XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(buf))
        abort();
}

/* Remove the scratch directory and the files in it (no subdirectories). */
static inline void to_rmdir(const char *dir);

/* The test group's scratch directory: made by to_group_setup, removed by to_group_teardown
 * (cmocka group fixtures). */
static char tmpdir[512];

static inline int to_group_setup(void **state)
{
    (void)state;
    to_tmpdir(tmpdir, sizeof tmpdir);
    return 0;
}

static inline int to_group_teardown(void **state)
{
    (void)state;
    to_rmdir(tmpdir);
    return 0;
}

static inline void to_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[2048];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            remove(path);
        }
    closedir(d);
    rmdir(dir);
}

#endif
