/* fuzz_scenario.c: fuzz target of the scenario reader (tf_scenario_load) and the --set parser.
 *
 * One input is a scenario file, optionally followed by --set strings: everything before the
 * first line "#--set" (marker at the start of the input or after a '\n') is written to a
 * temporary file and loaded; each line after the marker is one --set string (at most MAX_SETS).
 * Scenario files from scenarios/ and tests/bad_inputs/ are valid inputs as they are.
 *
 * Properties checked (abort() on a violation, which the fuzzer reports as a crash):
 *   - the reader returns TF_OK, TF_ERR_USAGE or TF_ERR_IO (never an internal error) and an
 *     error always comes with a message;
 *   - a scenario that loads formats to text that loads again to the same text (the round trip
 *     of tf_scenario_format, tf_scenario.h).
 * Memory errors and undefined behaviour are found by the sanitizers the target is built with.
 *
 * Built with libFuzzer (clang, -DTF_FUZZ=ON) as `fuzz_scenario`, and with replay_main.c by any
 * compiler as `fuzz_scenario_replay`, which runs saved inputs (tests/fuzz/regressions/). */
#define _POSIX_C_SOURCE 200809L

#include "tf_scenario.h"
#include "tf_status.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SETS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char marker[] = "#--set";

/* Write bytes to `path` (truncating); 0 on success. */
static int write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    const int ok = fwrite(data, 1, size, f) == size;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* A private temporary file for this process, made once (removed at exit). */
static char tmp_path[256];

static void remove_tmp(void)
{
    if (tmp_path[0])
        unlink(tmp_path);
}

static const char *scratch(void)
{
    if (!tmp_path[0]) {
        const char *dir = getenv("TMPDIR");
        snprintf(tmp_path, sizeof tmp_path, "%s/tf_fuzz_XXXXXX", dir && *dir ? dir : "/tmp");
        const int fd = mkstemp(tmp_path);
        if (fd < 0) {
            perror("fuzz_scenario: mkstemp");
            abort();
        }
        close(fd);
        atexit(remove_tmp);
    }
    return tmp_path;
}

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_scenario: property violated: %s\n%s\n", what, detail ? detail : "");
    abort();
}

/* Where the --set part starts (the marker line), or NULL. */
static const uint8_t *find_marker(const uint8_t *data, size_t size)
{
    const size_t m = sizeof marker - 1;
    for (size_t i = 0; i + m <= size; ++i)
        if ((i == 0 || data[i - 1] == '\n') && memcmp(data + i, marker, m) == 0)
            return data + i;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *mk = find_marker(data, size);
    const size_t file_size = mk ? (size_t)(mk - data) : size;

    /* The --set strings: lines after the marker line, NUL-terminated copies. */
    char *setbuf = NULL;
    const char *sets[MAX_SETS];
    int nsets = 0;
    if (mk) {
        const uint8_t *p = memchr(mk, '\n', size - file_size);
        const size_t rest = p ? size - (size_t)(p + 1 - data) : 0;
        setbuf = malloc(rest + 1);
        if (!setbuf)
            return 0;
        if (rest)
            memcpy(setbuf, p + 1, rest);
        setbuf[rest] = '\0';
        for (char *line = setbuf; nsets < MAX_SETS && line < setbuf + rest;) {
            char *nl = memchr(line, '\n', (size_t)(setbuf + rest - line));
            if (nl)
                *nl = '\0';
            sets[nsets++] = line;
            if (!nl)
                break;
            line = nl + 1;
        }
    }

    const char *path = scratch();
    if (write_file(path, data, file_size) != 0) {
        perror("fuzz_scenario: cannot write the temporary scenario");
        abort();
    }
    tf_scenario *s = malloc(sizeof *s), *t = malloc(sizeof *t);
    if (!s || !t)
        abort();
    tf_error_clear();
    const tf_status st = tf_scenario_load(s, path, sets, nsets);
    if (st != TF_OK) {
        if (st != TF_ERR_USAGE && st != TF_ERR_IO)
            fail("tf_scenario_load returned a status other than usage or I/O error",
                 tf_error_message());
        if (!*tf_error_message())
            fail("tf_scenario_load failed without a message", NULL);
    } else {
        /* Round trip: the effective scenario loads back to the same text. */
        char *text = tf_scenario_format(s);
        if (!text)
            fail("tf_scenario_format returned NULL", NULL);
        if (write_file(path, text, strlen(text)) != 0)
            abort();
        tf_error_clear();
        if (tf_scenario_load(t, path, NULL, 0) != TF_OK)
            fail("the formatted scenario does not load back", tf_error_message());
        char *again = tf_scenario_format(t);
        if (!again)
            fail("tf_scenario_format returned NULL", NULL);
        if (strcmp(text, again) != 0) {
            fprintf(stderr, "first:\n%s\nsecond:\n%s\n", text, again);
            fail("the formatted scenario loads back to a different scenario", NULL);
        }
        free(again);
        free(text);
    }
    tf_error_clear();
    free(t);
    free(s);
    free(setbuf);
    return 0;
}
