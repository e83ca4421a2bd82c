/*
 * replay_main.c: a main() for the fuzz targets in ordinary builds (gcc or
 * clang, no libFuzzer), so CTest runs every input of a target's corpus
 * through its LLVMFuzzerTestOneInput under the build's sanitizers: each
 * crash that fuzzing found and saved in the corpus stays a test.
 *
 *   replay_<target> DIR|FILE...
 *
 * Files of a directory are run in name order (a fixed order keeps the
 * stateful pipeline target reproducible). Fails when an argument cannot be
 * read or a directory holds no file, since a replay of nothing proves
 * nothing; a crash in a target ends the process with the sanitizer's report.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional in a target: weak, so targets without one link too. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long len = -1;
    int rc = -1;

    if (f == NULL) {
        perror(path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc(len > 0 ? (size_t)len : 1)) != NULL &&
        fread(buf, 1, (size_t)len, f) == (size_t)len) {
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        rc = 0;
    } else {
        fprintf(stderr, "%s: cannot read\n", path);
    }
    free(buf);
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs every regular file of `dir`; returns the number run, or -1. */
static long run_dir(const char *dir)
{
    char **names = NULL, **grown, path[4096];
    size_t n = 0, cap = 0, i;
    struct dirent *e;
    struct stat sb;
    long done = 0;
    DIR *d = opendir(dir);

    if (d == NULL) {
        perror(dir);
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
            continue;
        if (n == cap) {
            cap = cap != 0 ? cap * 2 : 64;
            if ((grown = realloc(names, cap * sizeof(*names))) == NULL)
                break;
            names = grown;
        }
        if ((names[n] = strdup(e->d_name)) == NULL)
            break;
        n++;
    }
    closedir(d);
    if (n > 0)
        qsort(names, n, sizeof(*names), cmp_names);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (done >= 0 && run_file(path) == 0)
            done++;
        else
            done = -1;
        free(names[i]);
    }
    free(names);
    return done;
}

int main(int argc, char **argv)
{
    struct stat sb;
    long total = 0, n;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize != NULL)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
            n = run_dir(argv[i]);
        else
            n = run_file(argv[i]) == 0 ? 1 : -1;
        if (n <= 0) {
            fprintf(stderr, "%s: %s\n", argv[i],
                    n == 0 ? "no input to replay" : "replay failed");
            return 1;
        }
        total += n;
    }
    printf("replayed %ld inputs\n", total);
    return 0;
}
