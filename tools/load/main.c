/*
 * main.c: cmpca-load, a CMP load generator. K worker threads each keep one
 * HTTP connection and enroll their own share of N cached device identities
 * (so no device is ever in two transactions at once), closed-loop as fast
 * as the server answers, or open-loop at an offered rate. In open loop an
 * enrollment's latency counts from when it was due, not from when a worker
 * got round to it, so a server that falls behind shows it in the tail
 * instead of quietly lowering the offered load (coordinated omission).
 *
 * Exit status: 0 every enrollment succeeded, 1 any failed (or none ran),
 * 2 usage.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "load.h"

/* What all workers of one phase share. */
struct shared {
    const struct opts *o;
    struct identities *ids;
    struct enroll_cfg ecfg;
    int setup; /* kur preparation: one ir per device, unmeasured */
    double t0; /* start of the measurement, monotonic seconds */
    atomic_llong next_ticket;
    atomic_llong done, failed;
    atomic_int running;
};

struct worker {
    struct shared *sh;
    int id;
    pthread_t tid;
    struct http_conn conn;
    struct stats st;
    double last_end;
    size_t next_dev; /* the n-th of this worker's own devices */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double t)
{
    struct timespec ts;

    ts.tv_sec = (time_t)t;
    ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L)
        ts.tv_nsec = 999999999L;
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
        ;
}

/* next_device picks the worker's next own device: w, w+K, w+2K, ... */
static struct device *next_device(struct worker *w)
{
    const struct shared *sh = w->sh;
    size_t k = (size_t)sh->o->workers;
    size_t own = (sh->ids->num_devices - (size_t)w->id + k - 1) / k;
    size_t i = (size_t)w->id + (w->next_dev++ % own) * k;

    return &sh->ids->devs[i];
}

/* next_start returns when the next enrollment is due (now in closed
 * loop), or a negative value when the run is over. */
static double next_start(struct worker *w)
{
    struct shared *sh = w->sh;
    const struct opts *o = sh->o;
    long long t = 0;
    double due;

    if (o->count > 0 || o->rate > 0) {
        t = atomic_fetch_add(&sh->next_ticket, 1);
        if (o->count > 0 && t >= o->count)
            return -1;
    }
    if (o->rate <= 0) {
        due = now_s();
        return o->count == 0 && due >= sh->t0 + o->duration ? -1 : due;
    }
    due = sh->t0 + (double)t / o->rate;
    if (o->count == 0 && due >= sh->t0 + o->duration)
        return -1;
    sleep_until(due);
    if (now_s() - due >= 0.010)
        w->st.late++;
    return due;
}

static void *setup_worker(struct worker *w)
{
    struct shared *sh = w->sh;
    char kind[200];
    size_t k = (size_t)sh->o->workers;

    for (size_t i = (size_t)w->id; i < sh->ids->num_devices; i += k) {
        if (enroll_one(&sh->ecfg, &w->conn, &sh->ids->devs[i], 0, kind,
                       sizeof(kind)) == 0) {
            atomic_fetch_add(&sh->done, 1);
        } else {
            stats_add_error(&w->st, kind);
            atomic_fetch_add(&sh->failed, 1);
        }
    }
    return NULL;
}

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    struct shared *sh = w->sh;
    char kind[200];
    double start, end;

    if (sh->setup) {
        setup_worker(w);
        goto done;
    }
    while ((start = next_start(w)) >= 0) {
        struct device *d = next_device(w);
        int rc =
            enroll_one(&sh->ecfg, &w->conn, d, sh->o->kur, kind, sizeof(kind));

        end = now_s();
        if (rc == 0 && stats_add_ok(&w->st, (end - start) * 1000.0) == 0) {
            atomic_fetch_add(&sh->done, 1);
        } else {
            stats_add_error(&w->st, rc == 0 ? "client: out of memory" : kind);
            atomic_fetch_add(&sh->failed, 1);
        }
        w->last_end = end;
    }
done:
    w->st.connects = w->conn.connects;
    http_close(&w->conn);
    ERR_clear_error();
    atomic_fetch_sub(&sh->running, 1);
    return NULL;
}

/* progress prints one status line on stderr: over itself on a terminal,
 * else a new line each time. */
static void progress(const struct shared *sh, double since, int tty,
                     long long *last_done, double *last_t)
{
    double t = now_s();
    long long done = atomic_load(&sh->done);
    double rate =
        t > *last_t ? (double)(done - *last_done) / (t - *last_t) : 0.0;

    fprintf(stderr, "%s%s%7.1f s %9lld ok %6lld failed %9.1f/s%s",
            tty ? "\r" : "", sh->setup ? "setup " : "", t - since, done,
            (long long)atomic_load(&sh->failed), rate, tty ? "" : "\n");
    fflush(stderr);
    *last_done = done;
    *last_t = t;
}

/* run_phase runs the workers to the end and merges their statistics into
 * `total`. *out_end is when the last enrollment finished. */
static int run_phase(struct shared *sh, struct worker *ws, struct stats *total,
                     double *out_end)
{
    const struct opts *o = sh->o;
    int tty = isatty(STDERR_FILENO), started = 0, rc = 0;
    double every = tty ? 1.0 : 5.0, next, last_t;
    long long last_done = 0;

    atomic_store(&sh->running, o->workers);
    sh->t0 = now_s();
    last_t = sh->t0;
    next = sh->t0 + every;
    for (; started < o->workers; started++) {
        ws[started].sh = sh;
        ws[started].id = started;
        http_init(&ws[started].conn, o->host, o->port, o->path,
                  o->timeout * 1000);
        if (pthread_create(&ws[started].tid, NULL, run_worker, &ws[started]) !=
            0) {
            fprintf(stderr, "cmpca-load: cannot start worker %d\n", started);
            atomic_fetch_sub(&sh->running, o->workers - started);
            rc = -1;
            break;
        }
    }
    while (atomic_load(&sh->running) > 0) {
        sleep_until(now_s() + 0.05);
        if (!o->quiet && now_s() >= next) {
            progress(sh, sh->t0, tty, &last_done, &last_t);
            next += every;
        }
    }
    if (!o->quiet && tty)
        fprintf(stderr, "\n");
    *out_end = sh->t0;
    for (int i = 0; i < started; i++) {
        pthread_join(ws[i].tid, NULL);
        if (ws[i].last_end > *out_end)
            *out_end = ws[i].last_end;
        if (stats_merge(total, &ws[i].st) != 0)
            rc = -1;
        stats_free(&ws[i].st);
        free(ws[i].conn.buf);
    }
    return rc;
}

/* CPU time over the measurement, in microseconds (-1: unknown). */
struct cpu_use {
    long long server, client, machine;
    double wall; /* seconds between the readings */
};

static void print_cpu(const struct stats *s, const struct cpu_use *u,
                      double seconds, double others)
{
    double per = s->num_ok > 0 ? (double)s->num_ok : 1.0;

    if (u->server >= 0)
        printf("server CPU: %.0f us per enrollment, %.2f cores busy\n",
               (double)u->server / per, (double)u->server / 1e6 / seconds);
    printf("client CPU: %.0f us per enrollment; %llu connections opened\n",
           (double)u->client / per, (unsigned long long)s->connects);
    if (others >= 0)
        printf("machine: %.2f cores busy, %.2f of them by other processes\n",
               (double)u->machine / 1e6 / u->wall, others);
}

static void report(const struct opts *o, struct stats *s, double seconds,
                   const struct cpu_use *u)
{
    double rate = seconds > 0 ? (double)s->num_ok / seconds : 0.0;
    double per = s->num_ok > 0 ? (double)s->num_ok : 1.0;
    double others = -1.0;

    /* the CPU other processes took: every rate is low when it is high */
    if (u->machine >= 0 && u->wall > 0) {
        long long mine = u->client + (u->server > 0 ? u->server : 0);

        others = (double)(u->machine - mine) / 1e6 / u->wall;
        if (others < 0)
            others = 0; /* tick rounding */
    }
    stats_sort(s);
    printf("cmpca-load: %s %s, %d workers, %zu devices, %s",
           o->kur ? "kur" : "ir", key_type_name(o->kt), o->workers, o->devices,
           o->no_root ? "no pre-provisioned root, " : "");
    if (o->rate > 0)
        printf("open loop at %g/s\n", o->rate);
    else
        printf("closed loop\n");
    printf("cmpca-load: %zu enrollments in %.2f s: %.1f enrollments/s, "
           "%llu failed\n",
           s->num_ok, seconds, rate, (unsigned long long)s->num_failed);
    printf("latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f\n",
           stats_percentile(s, 0.50), stats_percentile(s, 0.90),
           stats_percentile(s, 0.99), stats_percentile(s, 1.0));
    stats_print_errors(s, stdout);
    if (o->rate > 0)
        printf("late starts (10 ms or more behind schedule): %llu\n",
               (unsigned long long)s->late);
    print_cpu(s, u, seconds, others);
    printf("result: ok=%zu failed=%llu seconds=%.3f rate=%.2f p50_ms=%.3f "
           "p90_ms=%.3f p99_ms=%.3f max_ms=%.3f server_cpu_us=%.0f "
           "client_cpu_us=%.0f connects=%llu other_cores=%.2f\n",
           s->num_ok, (unsigned long long)s->num_failed, seconds, rate,
           stats_percentile(s, 0.50), stats_percentile(s, 0.90),
           stats_percentile(s, 0.99), stats_percentile(s, 1.0),
           u->server >= 0 ? (double)u->server / per : -1.0,
           (double)u->client / per, (unsigned long long)s->connects, others);
}

static X509_STORE *load_trust(const char *file)
{
    X509_STORE *st = X509_STORE_new();
    FILE *f = fopen(file, "r");
    X509 *x;
    int n = 0;

    if (st == NULL || f == NULL) {
        fprintf(stderr, "cmpca-load: cannot read %s\n", file);
        X509_STORE_free(st);
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
        n += X509_STORE_add_cert(st, x);
        X509_free(x);
    }
    fclose(f);
    ERR_clear_error();
    if (n == 0) {
        fprintf(stderr, "cmpca-load: no certificate in %s\n", file);
        X509_STORE_free(st);
        return NULL;
    }
    return st;
}

/* measure runs the timed phase and prints the report; returns the exit
 * status. */
static int measure(struct shared *sh, struct worker *ws)
{
    const struct opts *o = sh->o;
    struct stats total = {0};
    struct cpu_use u = {-1, -1, -1, 0};
    long long srv0 = -1, cli0 = self_cpu_us(), m0 = machine_busy_us();
    double w0 = now_s(), end;
    int rc;

    atomic_store(&sh->next_ticket, 0);
    atomic_store(&sh->done, 0);
    atomic_store(&sh->failed, 0);
    sh->setup = 0;
    memset(ws, 0, sizeof(*ws) * (size_t)o->workers);
    if (o->server_pid > 0 && (srv0 = proc_cpu_us(o->server_pid)) < 0)
        fprintf(stderr, "cmpca-load: cannot read /proc/%ld/stat\n",
                o->server_pid);
    rc = run_phase(sh, ws, &total, &end);
    if (srv0 >= 0 && (u.server = proc_cpu_us(o->server_pid)) >= 0)
        u.server -= srv0;
    u.client = self_cpu_us() - cli0;
    if (m0 >= 0 && (u.machine = machine_busy_us()) >= 0)
        u.machine -= m0;
    u.wall = now_s() - w0;
    report(o, &total, end - sh->t0, &u);
    rc = rc == 0 && total.num_failed == 0 && total.num_ok > 0 ? 0 : 1;
    stats_free(&total);
    return rc;
}

/* prepare_kur gives every device an operator certificate by an ir. */
static int prepare_kur(struct shared *sh, struct worker *ws)
{
    struct stats total = {0};
    double end;
    int rc;

    fprintf(stderr, "cmpca-load: kur: enrolling %zu devices by ir first\n",
            sh->ids->num_devices);
    sh->setup = 1;
    memset(ws, 0, sizeof(*ws) * (size_t)sh->o->workers);
    rc = run_phase(sh, ws, &total, &end);
    if (rc == 0 && total.num_failed > 0) {
        fprintf(stderr, "cmpca-load: kur preparation failed: ");
        stats_print_errors(&total, stderr);
        rc = -1;
    }
    stats_free(&total);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct identities ids = {0};
    struct shared sh = {.o = &o};
    struct worker *ws = NULL;
    long threads = sysconf(_SC_NPROCESSORS_ONLN);
    int rc = 1, prc = opts_parse(&o, argc, argv);

    if (prc != 0)
        return prc > 0 ? 0 : 2;
    signal(SIGPIPE, SIG_IGN);
    if (ident_load(o.cache, o.kt, o.devices, threads > 0 ? (int)threads : 1,
                   &ids) != 0)
        goto done;
    if (o.dir != NULL && register_devices(o.cmpca, o.dir, &ids) != 0)
        goto done;
    if (o.setup_only) {
        printf("cmpca-load: %zu devices ready in %s (vendor %s)\n",
               ids.num_devices, ids.dir, ids.vendor);
        rc = 0;
        goto done;
    }
    sh.ids = &ids;
    sh.ecfg.no_root = o.no_root;
    if (!o.no_root && (sh.ecfg.trust = load_trust(o.trusted)) == NULL)
        goto done;
    if ((ws = calloc((size_t)o.workers, sizeof(*ws))) == NULL)
        goto done;
    if (o.kur && prepare_kur(&sh, ws) != 0)
        goto done;
    rc = measure(&sh, ws);
done:
    free(ws);
    X509_STORE_free(sh.ecfg.trust);
    ident_free(&ids);
    return rc;
}
