/*
 * register.c: tells a cmpca about the load generator's devices the way an
 * operator would, through its command line (`cmpca vendor add`, `cmpca
 * device import`), so the registry is filled by the code paths production
 * uses and the load generator needs no knowledge of the store. Both steps
 * are idempotent: a vendor that is listed already is not added again, and
 * import skips serials it knows.
 */
#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "load.h"

extern char **environ;

/* run_cmd runs argv[0] with argv, stdout into `out` (NUL-terminated, cut at
 * `cap`) when `out` is given, else to /dev/null; stderr is inherited.
 * Returns the exit status, or -1 when it could not run. */
static int run_cmd(char *const argv[], char *out, size_t cap)
{
    posix_spawn_file_actions_t fa;
    int pipefd[2] = {-1, -1}, status = 0, rc = -1;
    size_t len = 0;
    pid_t pid;

    if (pipe(pipefd) != 0)
        return -1;
    if (posix_spawn_file_actions_init(&fa) != 0) {
        close(pipefd[0]);
        close(pipefd[1]);
        return -1;
    }
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawn_file_actions_addclose(&fa, pipefd[1]);
    if (posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
        fprintf(stderr, "cmpca-load: cannot run %s: %s\n", argv[0],
                strerror(errno));
        pid = -1;
    }
    posix_spawn_file_actions_destroy(&fa);
    close(pipefd[1]);
    for (;;) {
        char tmp[4096];
        ssize_t n = read(pipefd[0], tmp, sizeof(tmp));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; out != NULL && i < n && len + 1 < cap; i++)
            out[len++] = tmp[i];
    }
    close(pipefd[0]);
    if (out != NULL && cap > 0)
        out[len] = '\0';
    while (pid > 0 && waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    if (pid > 0 && WIFEXITED(status))
        rc = WEXITSTATUS(status);
    return rc;
}

/* vendor_listed reports whether `cmpca vendor list` names `vendor`:
 * 1 yes, 0 no, -1 the listing failed. */
static int vendor_listed(const char *cmpca, const char *dir, const char *vendor)
{
    char *argv[] = {(char *)cmpca, "vendor",    "list",
                    "--dir",       (char *)dir, NULL};
    size_t cap = 1 << 20, vlen = strlen(vendor);
    char *out = malloc(cap);
    int found = 0;

    if (out == NULL || run_cmd(argv, out, cap) != 0) {
        free(out);
        return -1;
    }
    for (char *line = out; line != NULL && *line != '\0';) {
        char *nl = strchr(line, '\n');

        if (strncmp(line, vendor, vlen) == 0 && line[vlen] == '\t')
            found = 1;
        line = nl != NULL ? nl + 1 : NULL;
    }
    free(out);
    return found;
}

static int write_root(const struct identities *ids, char *path, size_t cap)
{
    FILE *f;
    int ok;

    snprintf(path, cap, "%s/vendor-root.pem", ids->dir);
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    ok = PEM_write_X509(f, ids->vendor_root) == 1;
    return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_serials(const struct identities *ids, char *path, size_t cap)
{
    FILE *f;
    int ok = 1;

    snprintf(path, cap, "%s/serials-%ld.txt", ids->dir, (long)getpid());
    if ((f = fopen(path, "w")) == NULL)
        return -1;
    for (size_t i = 0; ok && i < ids->num_devices; i++)
        ok = fprintf(f, "%s\n", ids->devs[i].serial) > 0;
    return fclose(f) == 0 && ok ? 0 : -1;
}

int register_devices(const char *cmpca, const char *dir,
                     const struct identities *ids)
{
    char root[LOAD_PATH_CAP + 32], serials[LOAD_PATH_CAP + 32];
    char *add[] = {(char *)cmpca,       "vendor", "add", "--dir", (char *)dir,
                   (char *)ids->vendor, root,     NULL};
    char *import[] = {(char *)cmpca, "device",    "import",
                      "--dir",       (char *)dir, (char *)ids->vendor,
                      serials,       NULL};
    int listed = vendor_listed(cmpca, dir, ids->vendor), rc = -1;

    serials[0] = '\0';
    if (listed < 0) {
        fprintf(stderr, "cmpca-load: %s vendor list --dir %s failed\n", cmpca,
                dir);
        return -1;
    }
    if (listed == 0) {
        if (write_root(ids, root, sizeof(root)) != 0 ||
            run_cmd(add, NULL, 0) != 0) {
            fprintf(stderr, "cmpca-load: cannot add vendor %s\n", ids->vendor);
            return -1;
        }
    }
    if (write_serials(ids, serials, sizeof(serials)) != 0) {
        fprintf(stderr, "cmpca-load: cannot write %s\n", serials);
        goto done;
    }
    if (run_cmd(import, NULL, 0) != 0) {
        fprintf(stderr, "cmpca-load: cmpca device import failed\n");
        goto done;
    }
    rc = 0;
done:
    if (serials[0] != '\0')
        unlink(serials);
    return rc;
}
