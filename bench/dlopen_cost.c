/*
 * dlopen_cost.c - what loading a shared library costs a one-shot process.
 *
 * Diagnostic benchmark (bench/, not part of the library). fsx/core.so links
 * libcrypto and libcurl; a one-shot script pays for loading them (and
 * everything they depend on) before it does any work. This program loads ONE
 * library given by name (dlopen, RTLD_NOW) in a fresh process and reports
 * the CPU time it took; with "init" it also calls curl_global_init, as
 * luaopen_fsx_core does. bench/run.sh runs it several times per library.
 *
 * Usage: dlopen_cost LIBRARY [init]
 * Output: "dlopen.<LIBRARY>[+init] <CPU microseconds>"
 */
#define _GNU_SOURCE 1

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static double cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double t0;
    void *h;
    int init = argc > 2 && strcmp(argv[2], "init") == 0;

    if (argc < 2) {
        fprintf(stderr, "usage: dlopen_cost LIBRARY [init]\n");
        return 2;
    }
    t0 = cpu();
    h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
    if (h == NULL) {
        fprintf(stderr, "dlopen_cost: %s\n", dlerror());
        return 1;
    }
    if (init) {
        int (*global_init)(long) = NULL;
        void *sym = dlsym(h, "curl_global_init");

        memcpy(&global_init, &sym, sizeof(global_init));
        if (global_init == NULL || global_init(3L /* CURL_GLOBAL_DEFAULT */) != 0) {
            fprintf(stderr, "dlopen_cost: curl_global_init failed\n");
            return 1;
        }
    }
    printf("dlopen.%s%s %.0f\n", argv[1], init ? "+init" : "", (cpu() - t0) * 1e6);
    return 0;
}
