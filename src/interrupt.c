/*
 * interrupt.c - process-wide record of a termination signal (transport layer).
 * See interrupt.h.
 */
#include "interrupt.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    caught = sig;
}

int fsx_interrupt_catch(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* no SA_RESTART: a blocking sleep or poll returns at once (EINTR) */
    sa.sa_flags = 0;
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return -1;
    }
    /* a write to a pipe whose reader is gone fails with EPIPE, which the
     * caller reports (fsx-backup: the backup made and its token), instead
     * of SIGPIPE ending the process without a word */
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) != 0)
        return -1;
    return 0;
}

int fsx_interrupt_signal(void)
{
    return (int)caught;
}
