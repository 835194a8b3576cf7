/* test_machine.c: what the bench reads about the machine.
 *
 *   cache_from_sysfs   tf_cpu_cache_bytes on fake sysfs trees: the highest level's data or
 *                      unified cache (an instruction cache of a higher index does not count),
 *                      the K, M and G suffixes and plain bytes, gaps in the index numbers, and 0
 *                      for a directory that lists no cache or sizes it cannot read. On this
 *                      machine's own tree (where there is one) the answer is a plausible cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tf_test_util.h"
#include "tf_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Write dir/indexN/{level,type,size} (type or size NULL: no such file). */
static void fake_index(const char *dir, int n, const char *level, const char *type,
                       const char *size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/index%d", dir, n);
    assert_int_equal(mkdir(path, 0755), 0);
    const char *names[3] = {"level", "type", "size"};
    const char *values[3] = {level, type, size};
    for (int q = 0; q < 3; ++q) {
        if (!values[q])
            continue;
        char file[600];
        snprintf(file, sizeof file, "%s/%s", path, names[q]);
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fprintf(f, "%s\n", values[q]);
        fclose(f);
    }
}

static void remove_tree(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void cache_from_sysfs(void **st)
{
    (void)st;
    char dir[] = "/tmp/tf_test_cacheXXXXXX";
    assert_non_null(mkdtemp(dir));

    /* Nothing listed. */
    assert_true(tf_cpu_cache_bytes(dir) == 0.0);

    /* A Zen 4 core as sysfs lists it: L1d, L1i, L2, L3. */
    fake_index(dir, 0, "1", "Data", "32K");
    fake_index(dir, 1, "1", "Instruction", "32K");
    fake_index(dir, 2, "2", "Unified", "1024K");
    fake_index(dir, 3, "3", "Unified", "32768K");
    assert_true(tf_cpu_cache_bytes(dir) == 32768.0 * 1024.0);

    /* An instruction cache at a higher level and a gap in the numbers change nothing; an L4
     * in megabytes after the gap wins. */
    fake_index(dir, 5, "4", "Instruction", "64M");
    assert_true(tf_cpu_cache_bytes(dir) == 32768.0 * 1024.0);
    fake_index(dir, 7, "4", "Unified", "2G");
    assert_true(tf_cpu_cache_bytes(dir) == 2.0 * 1024.0 * 1024.0 * 1024.0);
    remove_tree(dir);

    /* Sizes in plain bytes, an unknown unit and an unreadable size. */
    assert_non_null(mkdtemp(strcpy(dir, "/tmp/tf_test_cacheXXXXXX")));
    fake_index(dir, 0, "2", "Unified", "1048576");
    fake_index(dir, 1, "3", "Unified", "32T");
    fake_index(dir, 2, "3", "Unified", NULL);
    fake_index(dir, 3, "3", "Unified", "lots");
    assert_true(tf_cpu_cache_bytes(dir) == 1048576.0);
    remove_tree(dir);

    /* This machine: a cache between 1 MB and 4 GB, or none listed (a container without
     * sysfs). */
    const double own = tf_cpu_cache_bytes(NULL);
    assert_true(own == 0.0 || (own >= 1e6 && own <= 4e9));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cache_from_sysfs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
