/* replay_main.c: run a fuzz target on saved inputs without libFuzzer (any compiler; the ASan
 * build runs tests/fuzz/regressions/ and the seed corpus this way).
 *
 * usage: fuzz_scenario_replay FILE_OR_DIR...  Each file (a directory's regular files, not
 * recursing) is one input. A violated property aborts, as under the fuzzer. */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are cut, as libFuzzer's -max_len would (bytes). */
#define REPLAY_MAX (1u << 20)

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    uint8_t *buf = malloc(REPLAY_MAX);
    if (!buf) {
        fclose(f);
        return -1;
    }
    const size_t n = fread(buf, 1, REPLAY_MAX, f);
    fclose(f);
    /* An exact-size copy, so that reading past the input is caught by ASan. */
    uint8_t *in = malloc(n ? n : 1);
    if (!in) {
        free(buf);
        return -1;
    }
    memcpy(in, buf, n);
    free(buf);
    printf("replay: %s (%zu bytes)\n", path, n);
    fflush(stdout);
    LLVMFuzzerTestOneInput(in, n);
    free(in);
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    int count = 0, errors = 0;
    for (int i = 1; i < argc; ++i) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            perror(argv[i]);
            ++errors;
            continue;
        }
        if (!S_ISDIR(sb.st_mode)) {
            errors += run_file(argv[i]) != 0;
            ++count;
            continue;
        }
        struct dirent **list = NULL;
        const int n = scandir(argv[i], &list, NULL, NULL);
        if (n < 0) {
            perror(argv[i]);
            ++errors;
            continue;
        }
        char **paths = calloc((size_t)n, sizeof *paths);
        int np = 0;
        for (int j = 0; j < n; ++j) {
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", argv[i], list[j]->d_name);
            if (stat(p, &sb) == 0 && S_ISREG(sb.st_mode) && paths)
                paths[np++] = strdup(p);
            free(list[j]);
        }
        free(list);
        if (paths)
            qsort(paths, (size_t)np, sizeof *paths, cmp_str);
        for (int j = 0; j < np; ++j) {
            errors += !paths[j] || run_file(paths[j]) != 0;
            ++count;
            free(paths[j]);
        }
        free(paths);
    }
    printf("%d passed, %d failed\n", count - errors, errors);
    return errors || count == 0 ? 1 : 0;
}
