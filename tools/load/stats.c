/*
 * stats.c: what a load run reports. Every successful enrollment's latency
 * is kept (8 bytes each: a million enrollments is 8 MB), because tail
 * percentiles from a histogram hide exactly the outliers a benchmark is
 * for. Each worker fills its own struct stats without locks; the main
 * thread merges them once the workers are done. Failures are counted by
 * kind (the failInfo names, or transport/client), a handful of kinds at
 * most, so a linear table does.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "load.h"

int stats_add_ok(struct stats *s, double ms)
{
    if (s->num_ok == s->cap) {
        size_t cap = s->cap == 0 ? 1024 : s->cap * 2;
        double *p = realloc(s->lat_ms, cap * sizeof(*p));

        if (p == NULL)
            return -1;
        s->lat_ms = p;
        s->cap = cap;
    }
    s->lat_ms[s->num_ok++] = ms;
    return 0;
}

static void add_kind(struct stats *s, const char *kind, uint64_t n)
{
    size_t i;

    for (i = 0; i < s->num_kinds; i++)
        if (strcmp(s->kinds[i].kind, kind) == 0)
            break;
    if (i == s->num_kinds) {
        if (s->num_kinds == STATS_MAX_KINDS)
            i = STATS_MAX_KINDS - 1; /* the last slot collects the rest */
        else
            snprintf(s->kinds[s->num_kinds++].kind, sizeof(s->kinds[0].kind),
                     "%s", kind);
    }
    s->kinds[i].n += n;
}

void stats_add_error(struct stats *s, const char *kind)
{
    s->num_failed++;
    add_kind(s, kind, 1);
}

int stats_merge(struct stats *into, struct stats *from)
{
    for (size_t i = 0; i < from->num_ok; i++)
        if (stats_add_ok(into, from->lat_ms[i]) != 0)
            return -1;
    for (size_t i = 0; i < from->num_kinds; i++)
        add_kind(into, from->kinds[i].kind, from->kinds[i].n);
    into->num_failed += from->num_failed;
    into->late += from->late;
    into->connects += from->connects;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

void stats_sort(struct stats *s)
{
    if (s->num_ok > 1)
        qsort(s->lat_ms, s->num_ok, sizeof(double), cmp_double);
}

/* Nearest rank: the smallest latency at or above which p of all lie. */
double stats_percentile(const struct stats *s, double p)
{
    size_t rank;

    if (s->num_ok == 0)
        return 0.0;
    rank = (size_t)(p * (double)s->num_ok + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->num_ok)
        rank = s->num_ok;
    return s->lat_ms[rank - 1];
}

void stats_free(struct stats *s)
{
    if (s == NULL)
        return;
    free(s->lat_ms);
    memset(s, 0, sizeof(*s));
}

void stats_print_errors(const struct stats *s, FILE *f)
{
    fprintf(f, "errors by failInfo:");
    if (s->num_kinds == 0)
        fprintf(f, " none");
    for (size_t i = 0; i < s->num_kinds; i++)
        fprintf(f, "%s %s=%llu", i > 0 ? "," : "", s->kinds[i].kind,
                (unsigned long long)s->kinds[i].n);
    fprintf(f, "\n");
}

long long proc_cpu_us(long pid)
{
    char path[64], buf[2048];
    unsigned long long utime = 0, stime = 0;
    long tck = sysconf(_SC_CLK_TCK);
    const char *p;
    size_t n;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (tck <= 0 || (f = fopen(path, "r")) == NULL)
        return -1;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name may hold blanks and ')': fields start after the
     * last ')'; utime and stime are fields 14 and 15, the 12th and 13th
     * after it */
    if ((p = strrchr(buf, ')')) == NULL)
        return -1;
    for (int field = 3; field <= 15 && p != NULL; field++) {
        p = strchr(p + 1, ' ');
        if (p != NULL && field == 14)
            utime = strtoull(p + 1, NULL, 10);
        else if (p != NULL && field == 15)
            stime = strtoull(p + 1, NULL, 10);
    }
    if (p == NULL)
        return -1;
    return (long long)((utime + stime) * 1000000ULL / (unsigned long long)tck);
}

long long machine_busy_us(void)
{
    unsigned long long v[8] = {0}, busy;
    long tck = sysconf(_SC_CLK_TCK);
    char line[512], *p, *end;
    FILE *f = fopen("/proc/stat", "r");

    if (f == NULL || tck <= 0) {
        if (f != NULL)
            fclose(f);
        return -1;
    }
    p = fgets(line, sizeof(line), f);
    fclose(f);
    if (p == NULL || strncmp(line, "cpu ", 4) != 0)
        return -1;
    /* user nice system idle iowait irq softirq steal */
    p = line + 4;
    for (int i = 0; i < 8; i++, p = end)
        v[i] = strtoull(p, &end, 10);
    busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (long long)(busy * 1000000ULL / (unsigned long long)tck);
}

long long self_cpu_us(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (long long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000 +
           ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}
