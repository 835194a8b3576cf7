/* test_output_nc.c: the CF NetCDF output (host/ncout.c), read back with the NetCDF API.
 *
 * Exact round trip: every value written comes back as (float) of the padded array's value,
 * records in order, on a non-cubic grid; the CF layout (dimension order, coordinates, units,
 * axis attributes, time units, no _FillValue); chunking and compression; a restart that
 * truncates at a time; writing by blocks of a decomposed grid; errors that name the path or
 * the difference. Built for float and double fields. */
#define _POSIX_C_SOURCE 200809L
#include "test_output_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define NC_OK(call) assert_int_equal((call), NC_NOERR)


static void grid(tf_grid *g, tf_index nx, tf_index ny, tf_index nz, double h)
{
    assert_int_equal(tf_grid_init(g, nx, ny, nz, h), TF_OK);
}

static void path_in_tmp(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", tmpdir, name);
}

static void check_text_att(int nc, int var, const char *name, const char *want)
{
    size_t len;
    NC_OK(nc_inq_attlen(nc, var, name, &len));
    char *buf = calloc(len + 1, 1);
    NC_OK(nc_get_att_text(nc, var, name, buf));
    assert_string_equal(buf, want);
    free(buf);
}

/* Record `rec` of variable `name` (or the (z,y,x) variable when rec < 0) equals the interior
 * of the padded array a over the block of g, value by value as float. */
static void check_values(int nc, const char *name, long rec, const tf_grid *g, const tf_real *a)
{
    int vid;
    NC_OK(nc_inq_varid(nc, name, &vid));
    const size_t n = (size_t)g->ncells;
    float *buf = malloc(n * sizeof *buf);
    size_t start[4] = {0}, count[4];
    const int nt = rec >= 0;
    if (nt) {
        start[0] = (size_t)rec;
        count[0] = 1;
    }
    for (int d = 0; d < 3; ++d) {
        start[nt + d] = (size_t)g->start[2 - d];
        count[nt + d] = (size_t)g->n[2 - d];
    }
    NC_OK(nc_get_vara_float(nc, vid, start, count, buf));
    size_t q = 0, bad = 0;
    for (tf_index k = 0; k < g->n[2]; ++k)
        for (tf_index j = 0; j < g->n[1]; ++j)
            for (tf_index i = 0; i < g->n[0]; ++i, ++q)
                if (buf[q] != (float)a[tf_at(g, i, j, k)]) {
                    if (bad++ < 5)
                        fprintf(stderr, "%s rec %ld (%lld,%lld,%lld): file %.9g, want %.9g\n",
                                name, rec, (long long)i, (long long)j, (long long)k,
                                (double)buf[q], (double)(float)a[tf_at(g, i, j, k)]);
                }
    free(buf);
    assert_int_equal(bad, 0);
}

static size_t time_len(int nc)
{
    int dim;
    size_t n;
    NC_OK(nc_inq_dimid(nc, "time", &dim));
    NC_OK(nc_inq_dimlen(nc, dim, &n));
    return n;
}

/* Write three records of random fields on a 7 x 5 x 3 grid, read everything back. */
static void test_round_trip(void **state)
{
    (void)state;
    tf_grid g;
    grid(&g, 7, 5, 3, 12.5);
    tf_scenario s;
    to_scenario(&s, 7, 5, 3, 12.5);
    s.compression = 4;
    to_state st[3];
    for (int r = 0; r < 3; ++r) {
        to_state_init(&st[r], &g);
        to_state_random(&st[r], 100 + (uint64_t)r);
    }
    char path[1100];
    path_in_tmp(path, sizeof path, "round.nc");
    tf_ncout *o;
    const char *scen = "[run]\nname = test\n";
    assert_int_equal(tf_ncout_create(&o, path, &s, &g, NULL, scen, st[0].v), TF_OK);
    const double times[3] = {0.0, 30.0, 60.5};
    for (int r = 0; r < 3; ++r) {
        assert_int_equal(tf_ncout_write(o, times[r], st[r].f), TF_OK);
        assert_int_equal(tf_ncout_records(o), (size_t)r + 1);
    }
    assert_int_equal(tf_ncout_close(o), TF_OK);

    int nc, fmt;
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    NC_OK(nc_inq_format(nc, &fmt));
    assert_int_equal(fmt, NC_FORMAT_NETCDF4);
    check_text_att(nc, NC_GLOBAL, "Conventions", "CF-1.10");
    check_text_att(nc, NC_GLOBAL, "tumorfield_version", TF_VERSION_STRING);
    check_text_att(nc, NC_GLOBAL, "tumorfield_precision", TF_REAL_NAME);
    check_text_att(nc, NC_GLOBAL, "source", "TumorField " TF_VERSION_STRING);
    check_text_att(nc, NC_GLOBAL, "scenario", scen);
    size_t len;
    NC_OK(nc_inq_attlen(nc, NC_GLOBAL, "title", &len));
    NC_OK(nc_inq_attlen(nc, NC_GLOBAL, "history", &len));

    /* Dimensions: time unlimited, then z, y, x with the grid's sizes. */
    const char *dn[4] = {"time", "z", "y", "x"};
    const size_t dl[4] = {3, 3, 5, 7};
    int did[4];
    for (int d = 0; d < 4; ++d) {
        NC_OK(nc_inq_dimid(nc, dn[d], &did[d]));
        NC_OK(nc_inq_dimlen(nc, did[d], &len));
        assert_int_equal(len, dl[d]);
    }
    int nunlim, unlim[NC_MAX_DIMS];
    NC_OK(nc_inq_unlimdims(nc, &nunlim, unlim));
    assert_int_equal(nunlim, 1);
    assert_int_equal(unlim[0], did[0]);

    /* Coordinates: cell centres (i + 0.5) h in um, CF axis attributes, z positive up, no
     * map-projection standard names. */
    const char *ax[3] = {"x", "y", "z"}, *AX[3] = {"X", "Y", "Z"};
    for (int d = 0; d < 3; ++d) {
        int vid, nd, vd[4];
        nc_type type;
        NC_OK(nc_inq_varid(nc, ax[d], &vid));
        NC_OK(nc_inq_var(nc, vid, NULL, &type, &nd, vd, NULL));
        assert_int_equal(type, NC_DOUBLE);
        assert_int_equal(nd, 1);
        assert_int_equal(vd[0], did[3 - d]);
        check_text_att(nc, vid, "units", "um");
        check_text_att(nc, vid, "axis", AX[d]);
        assert_int_equal(nc_inq_att(nc, vid, "standard_name", NULL, NULL), NC_ENOTATT);
        if (d == 2)
            check_text_att(nc, vid, "positive", "up");
        else
            assert_int_equal(nc_inq_att(nc, vid, "positive", NULL, NULL), NC_ENOTATT);
        double x[8];
        NC_OK(nc_get_var_double(nc, vid, x));
        for (tf_index i = 0; i < g.gn[d]; ++i)
            assert_true(x[i] == ((double)i + 0.5) * 12.5);
    }
    int tid;
    NC_OK(nc_inq_varid(nc, "time", &tid));
    check_text_att(nc, tid, "units", TF_NC_TIME_UNITS);
    check_text_att(nc, tid, "axis", "T");
    check_text_att(nc, tid, "standard_name", "time");
    check_text_att(nc, tid, "calendar", "standard");
    double tt[3];
    NC_OK(nc_get_var_double(nc, tid, tt));
    for (int r = 0; r < 3; ++r)
        assert_true(tt[r] == times[r]);

    /* Fields: float over (time, z, y, x), units and long names, one record per chunk,
     * shuffle + deflate 4, no _FillValue attribute; values exact as float. */
    for (int f = 0; f < TF_NFIELDS; ++f) {
        int vid, nd, vd[4], storage, shuffle, deflate, level;
        nc_type type;
        size_t chunk[4];
        NC_OK(nc_inq_varid(nc, tf_field_name[f], &vid));
        NC_OK(nc_inq_var(nc, vid, NULL, &type, &nd, vd, NULL));
        assert_int_equal(type, NC_FLOAT);
        assert_int_equal(nd, 4);
        for (int d = 0; d < 4; ++d)
            assert_int_equal(vd[d], did[d]);
        check_text_att(nc, vid, "units", tf_field_units[f]);
        check_text_att(nc, vid, "long_name", tf_field_long_name[f]);
        assert_int_equal(nc_inq_att(nc, vid, "_FillValue", NULL, NULL), NC_ENOTATT);
        NC_OK(nc_inq_var_chunking(nc, vid, &storage, chunk));
        assert_int_equal(storage, NC_CHUNKED);
        assert_int_equal(chunk[0], 1);
        assert_int_equal(chunk[1], 3);
        assert_int_equal(chunk[2], 5);
        assert_int_equal(chunk[3], 7);
        NC_OK(nc_inq_var_deflate(nc, vid, &shuffle, &deflate, &level));
        assert_true(shuffle && deflate);
        assert_int_equal(level, 4);
        for (int r = 0; r < 3; ++r)
            check_values(nc, tf_field_name[f], r, &g, st[r].f[f]);
    }
    int vid, nd;
    NC_OK(nc_inq_varid(nc, "vessel", &vid));
    NC_OK(nc_inq_varndims(nc, vid, &nd));
    assert_int_equal(nd, 3);
    check_text_att(nc, vid, "units", "1");
    check_values(nc, "vessel", -1, &g, st[0].v);
    NC_OK(nc_close(nc));

    /* Restart at the second record's time (and within the tolerance above it): two records
     * kept, the third rewritten with new values. */
    to_state fresh;
    to_state_init(&fresh, &g);
    to_state_random(&fresh, 999);
    const double t_restart[2] = {30.0, 30.0 + 1e-9};
    for (int trial = 0; trial < 2; ++trial) {
        assert_int_equal(tf_ncout_reopen(&o, path, &s, &g, NULL, t_restart[trial], -1.0), TF_OK);
        assert_int_equal(tf_ncout_records(o), 2);
        assert_int_equal(tf_ncout_write(o, 60.5, fresh.f), TF_OK);
        assert_int_equal(tf_ncout_records(o), 3);
        assert_int_equal(tf_ncout_close(o), TF_OK);
    }
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    assert_int_equal(time_len(nc), 3);
    NC_OK(nc_get_var_double(nc, tid, tt));
    for (int r = 0; r < 3; ++r)
        assert_true(tt[r] == times[r]);
    for (int f = 0; f < TF_NFIELDS; ++f) {
        check_values(nc, tf_field_name[f], 0, &g, st[0].f[f]);
        check_values(nc, tf_field_name[f], 1, &g, st[1].f[f]);
        check_values(nc, tf_field_name[f], 2, &g, fresh.f[f]);
    }
    check_values(nc, "vessel", -1, &g, st[0].v);
    NC_OK(nc_close(nc));

    /* Restart after the last record appends; before the first keeps none. */
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &g, NULL, 90.0, -1.0), TF_OK);
    assert_int_equal(tf_ncout_records(o), 3);
    assert_int_equal(tf_ncout_write(o, 90.0, st[2].f), TF_OK);
    assert_int_equal(tf_ncout_close(o), TF_OK);
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &g, NULL, 29.9, -1.0), TF_OK);
    assert_int_equal(tf_ncout_records(o), 1);
    assert_int_equal(tf_ncout_close(o), TF_OK);
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    assert_int_equal(time_len(nc), 4);
    check_values(nc, "tumor", 3, &g, st[2].f[TF_TUMOR]);
    size_t hist_len = 0;
    NC_OK(nc_inq_attlen(nc, NC_GLOBAL, "history", &hist_len));
    NC_OK(nc_close(nc));

    /* A restart at 120 whose record of 100 is due but missing (the file ends at 90: it is not
     * the checkpoint's run) is refused, naming both times, and leaves the file as it was; the
     * record of 90 due is there. */
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &g, NULL, 120.0, 100.0), TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), "lacks the record of t = 100 min"));
    assert_non_null(strstr(tf_error_message(), "the last at t = 90 min"));
    assert_null(o);
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    assert_int_equal(time_len(nc), 4);
    size_t hist_after = 0;
    NC_OK(nc_inq_attlen(nc, NC_GLOBAL, "history", &hist_after));
    assert_int_equal(hist_after, hist_len);
    NC_OK(nc_close(nc));
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &g, NULL, 120.0, 90.0), TF_OK);
    assert_int_equal(tf_ncout_records(o), 4);
    assert_int_equal(tf_ncout_close(o), TF_OK);

    to_state_free(&fresh);
    for (int r = 0; r < 3; ++r)
        to_state_free(&st[r]);
    remove(path);
}

/* A subset of fields; reopening with another selection or another grid names the
 * difference. */
static void test_mismatch(void **state)
{
    (void)state;
    tf_grid g;
    grid(&g, 6, 4, 5, 10.0);
    tf_scenario s;
    to_scenario(&s, 6, 4, 5, 10.0);
    s.fields_mask = (1u << TF_TUMOR) | (1u << TF_CORTISOL);
    to_state st;
    to_state_init(&st, &g);
    to_state_random(&st, 7);
    char path[1100];
    path_in_tmp(path, sizeof path, "subset.nc");
    tf_ncout *o;
    assert_int_equal(tf_ncout_create(&o, path, &s, &g, NULL, NULL, st.v), TF_OK);
    tf_real *only[TF_NFIELDS] = {st.f[TF_TUMOR], NULL, NULL, NULL, NULL, st.f[TF_CORTISOL]};
    assert_int_equal(tf_ncout_write(o, 5.0, only), TF_OK);
    assert_int_equal(tf_ncout_close(o), TF_OK);

    int nc, vid;
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    assert_int_equal(nc_inq_varid(nc, "effector", &vid), NC_ENOTVAR);
    check_values(nc, "tumor", 0, &g, st.f[TF_TUMOR]);
    check_values(nc, "cortisol", 0, &g, st.f[TF_CORTISOL]);
    NC_OK(nc_close(nc));

    tf_scenario all = s;
    all.fields_mask = (1u << TF_NFIELDS) - 1;
    tf_error_clear();
    assert_int_equal(tf_ncout_reopen(&o, path, &all, &g, NULL, 5.0, -1.0), TF_ERR_USAGE);
    assert_null(o);
    assert_non_null(strstr(tf_error_message(), "'effector'"));
    assert_non_null(strstr(tf_error_message(), path));

    tf_grid g2;
    grid(&g2, 6, 4, 6, 10.0);
    tf_error_clear();
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &g2, NULL, 5.0, -1.0), TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), "5 cells along z"));
    assert_non_null(strstr(tf_error_message(), "has 6"));

    grid(&g2, 6, 4, 5, 20.0);
    tf_error_clear();
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &g2, NULL, 5.0, -1.0), TF_ERR_USAGE);
    assert_non_null(strstr(tf_error_message(), "spacing"));

    path_in_tmp(path, sizeof path, "missing.nc");
    tf_error_clear();
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &g, NULL, 5.0, -1.0), TF_ERR_IO);
    assert_non_null(strstr(tf_error_message(), path));
    tf_error_clear();
    to_state_free(&st);
}

/* A path in a directory that does not exist, and a directory where the file should be. */
static void test_unwritable(void **state)
{
    (void)state;
    tf_grid g;
    grid(&g, 3, 3, 3, 10.0);
    tf_scenario s;
    to_scenario(&s, 3, 3, 3, 10.0);
    to_state st;
    to_state_init(&st, &g);
    char path[1100];
    path_in_tmp(path, sizeof path, "no/such/dir/out.nc");
    tf_ncout *o = (tf_ncout *)&o;
    tf_error_clear();
    assert_int_equal(tf_ncout_create(&o, path, &s, &g, NULL, "", st.v), TF_ERR_IO);
    assert_null(o);
    assert_non_null(strstr(tf_error_message(), path));
    tf_error_clear();
    assert_int_equal(tf_ncout_create(&o, tmpdir, &s, &g, NULL, "", st.v), TF_ERR_IO);
    assert_non_null(strstr(tf_error_message(), tmpdir));
    tf_error_clear();
    to_state_free(&st);
}

/* Two blocks of a grid split in z write their parts of one record: the file holds the whole
 * field. The writer sees only the global shape and each block's start and count. */
static void test_blocks(void **state)
{
    (void)state;
    tf_grid whole;
    grid(&whole, 5, 4, 6, 10.0);
    tf_scenario s;
    to_scenario(&s, 5, 4, 6, 10.0);
    to_state all;
    to_state_init(&all, &whole);
    to_state_random(&all, 3);

    tf_grid blk[2];
    to_state part[2];
    const tf_index k0[2] = {0, 2}, nk[2] = {2, 4};
    for (int b = 0; b < 2; ++b) {
        grid(&blk[b], 5, 4, nk[b], 10.0);
        blk[b].gn[2] = 6;
        blk[b].start[2] = k0[b];
        to_state_init(&part[b], &blk[b]);
        for (tf_index k = 0; k < nk[b]; ++k)
            for (tf_index j = 0; j < 4; ++j)
                for (tf_index i = 0; i < 5; ++i) {
                    const tf_index p = tf_at(&blk[b], i, j, k), q = tf_at(&whole, i, j, k0[b] + k);
                    for (int f = 0; f < TF_NFIELDS; ++f)
                        part[b].f[f][p] = all.f[f][q];
                    part[b].v[p] = all.v[q];
                }
    }
    char path[1100];
    path_in_tmp(path, sizeof path, "blocks.nc");
    tf_ncout *o;
    assert_int_equal(tf_ncout_create(&o, path, &s, &blk[0], NULL, "", part[0].v), TF_OK);
    assert_int_equal(tf_ncout_write(o, 1.0, part[0].f), TF_OK);
    assert_int_equal(tf_ncout_close(o), TF_OK);
    /* The second block joins at record 0 (a restart before the first record keeps none). */
    assert_int_equal(tf_ncout_reopen(&o, path, &s, &blk[1], NULL, -1.0, -1.0), TF_OK);
    assert_int_equal(tf_ncout_records(o), 0);
    assert_int_equal(tf_ncout_write(o, 1.0, part[1].f), TF_OK);
    assert_int_equal(tf_ncout_close(o), TF_OK);

    int nc;
    NC_OK(nc_open(path, NC_NOWRITE, &nc));
    assert_int_equal(time_len(nc), 1);
    for (int f = 0; f < TF_NFIELDS; ++f)
        check_values(nc, tf_field_name[f], 0, &whole, all.f[f]);
    check_values(nc, "vessel", -1, &blk[0], part[0].v);
    NC_OK(nc_close(nc));
    for (int b = 0; b < 2; ++b)
        to_state_free(&part[b]);
    to_state_free(&all);
    remove(path);
}

/* Chunks stay at most 2^20 values: a grid of 64 x 64 x 300 is written in z slabs of 256
 * planes (one slab crossing the end), a 1100 x 1000 plane is split
 * in y. */
static void test_chunks(void **state)
{
    (void)state;
    const tf_index shapes[2][3] = {{64, 64, 300}, {1100, 1000, 1}};
    const size_t want[2][4] = {{1, 256, 64, 64}, {1, 1, 953, 1100}};
    for (int c = 0; c < 2; ++c) {
        tf_grid g;
        grid(&g, shapes[c][0], shapes[c][1], shapes[c][2], 5.0);
        tf_scenario s;
        to_scenario(&s, shapes[c][0], shapes[c][1], shapes[c][2], 5.0);
        s.fields_mask = 1u << TF_PRO;
        /* Only the written field and the vessel map: the big plane needs little memory. */
        tf_real *pro = malloc((size_t)g.nalloc * sizeof *pro);
        tf_real *ves = malloc((size_t)g.nalloc * sizeof *ves);
        assert_non_null(pro);
        assert_non_null(ves);
        uint64_t seed = 11 + (uint64_t)c;
        for (tf_index p = 0; p < g.nalloc; ++p) {
            pro[p] = (tf_real)(1000.0 * to_rand(&seed));
            ves[p] = (tf_real)to_rand(&seed);
        }
        tf_real *f[TF_NFIELDS] = {NULL, NULL, NULL, pro, NULL, NULL};
        char path[1100];
        path_in_tmp(path, sizeof path, "chunks.nc");
        tf_ncout *o;
        assert_int_equal(tf_ncout_create(&o, path, &s, &g, NULL, "", ves), TF_OK);
        assert_int_equal(tf_ncout_write(o, 0.0, f), TF_OK);
        assert_int_equal(tf_ncout_close(o), TF_OK);
        int nc, vid, storage;
        size_t chunk[4];
        NC_OK(nc_open(path, NC_NOWRITE, &nc));
        NC_OK(nc_inq_varid(nc, "pro_cytokine", &vid));
        NC_OK(nc_inq_var_chunking(nc, vid, &storage, chunk));
        for (int d = 0; d < 4; ++d)
            assert_int_equal(chunk[d], want[c][d]);
        check_values(nc, "pro_cytokine", 0, &g, pro);
        check_values(nc, "vessel", -1, &g, ves);
        NC_OK(nc_close(nc));
        free(pro);
        free(ves);
        remove(path);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip), cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_unwritable), cmocka_unit_test(test_blocks),
        cmocka_unit_test(test_chunks),
    };
    return cmocka_run_group_tests(tests, to_group_setup, to_group_teardown);
}
