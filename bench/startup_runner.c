/*
 * startup_runner.c - wall time and peak memory of whole commands, interleaved.
 *
 * Benchmark program (bench/, not part of the library). Runs each of several
 * commands once per round, for ROUNDS rounds, in round-robin order (A B C A
 * B C ...) so that machine noise hits every command alike, and reports for
 * each the median wall time and the median and largest peak RSS. The command
 * is run directly (fork + execvp, no shell); its peak RSS is ru_maxrss from
 * wait4. The first round is a warm-up (page cache, bytecode caches) and is
 * not counted. A command that fails stops the run.
 *
 * Usage: startup_runner ROUNDS NAME 'argv words' [NAME 'argv words' ...]
 *   (the argv words are split on spaces; no quoting)
 * Output, one "name value" per line, for each NAME:
 *   startup.NAME.wall_ms      median wall milliseconds
 *   startup.NAME.wall_ms_min  fastest run
 *   startup.NAME.cpu_ms       median CPU milliseconds (ru_utime + ru_stime)
 *   startup.NAME.rss_kb       median peak RSS (kB)
 *   startup.NAME.rss_kb_max   largest peak RSS (kB)
 * The commands' stdout goes to /dev/null; their stderr stays.
 */
#define _GNU_SOURCE 1

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 8
#define MAX_WORDS 64
#define MAX_ROUNDS 200

struct cmd {
    const char *name;
    char *argv[MAX_WORDS];
    double wall_ms[MAX_ROUNDS];
    double rss_kb[MAX_ROUNDS];
    double cpu_ms[MAX_ROUNDS];
};

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y ? 1 : 0;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Run c once; wall time and peak RSS into slot i (i < 0: warm-up). */
static void run(struct cmd *c, int i)
{
    struct rusage ru;
    double t0 = now(), t;
    int status = 0;
    pid_t pid = fork();

    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);

        if (fd >= 0)
            dup2(fd, 1);
        execvp(c->argv[0], c->argv);
        perror(c->argv[0]);
        _exit(127);
    }
    if (wait4(pid, &status, 0, &ru) != pid) {
        perror("wait4");
        exit(1);
    }
    t = now() - t0;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "startup_runner: %s failed (status %d)\n", c->name, status);
        exit(1);
    }
    if (i >= 0) {
        c->wall_ms[i] = t * 1e3;
        c->rss_kb[i] = (double)ru.ru_maxrss;
        c->cpu_ms[i] = ((double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec) * 1e3 +
                       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-3;
    }
}

int main(int argc, char **argv)
{
    struct cmd cmds[MAX_CMDS];
    int rounds, n = 0, i, r;

    if (argc < 4 || argc % 2 != 0) {
        fprintf(stderr, "usage: startup_runner ROUNDS NAME 'argv words' ...\n");
        return 2;
    }
    rounds = atoi(argv[1]);
    if (rounds < 1 || rounds > MAX_ROUNDS || (argc - 2) / 2 > MAX_CMDS) {
        fprintf(stderr, "startup_runner: 1..%d rounds, at most %d commands\n", MAX_ROUNDS,
                MAX_CMDS);
        return 2;
    }
    for (i = 2; i + 1 < argc; i += 2, n++) {
        char *w, *save = NULL;
        int k = 0;

        cmds[n].name = argv[i];
        for (w = strtok_r(argv[i + 1], " ", &save); w != NULL && k < MAX_WORDS - 1;
             w = strtok_r(NULL, " ", &save))
            cmds[n].argv[k++] = w;
        cmds[n].argv[k] = NULL;
        if (k == 0) {
            fprintf(stderr, "startup_runner: empty command for %s\n", cmds[n].name);
            return 2;
        }
    }
    for (i = 0; i < n; i++)
        run(&cmds[i], -1);
    for (r = 0; r < rounds; r++)
        for (i = 0; i < n; i++)
            run(&cmds[(i + r) % n], r); /* rotate who goes first */
    for (i = 0; i < n; i++) {
        struct cmd *c = &cmds[i];
        double rss_med = median(c->rss_kb, rounds);

        printf("startup.%s.wall_ms %.2f\n", c->name, median(c->wall_ms, rounds));
        printf("startup.%s.wall_ms_min %.2f\n", c->name, c->wall_ms[0]);
        printf("startup.%s.cpu_ms %.2f\n", c->name, median(c->cpu_ms, rounds));
        printf("startup.%s.rss_kb %.0f\n", c->name, rss_med);
        printf("startup.%s.rss_kb_max %.0f\n", c->name, c->rss_kb[rounds - 1]);
    }
    return 0;
}
