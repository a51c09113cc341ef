/*
 * interrupt.h - process-wide record of a termination signal (transport layer).
 *
 * No Lua. fsx_interrupt_catch installs handlers for SIGINT, SIGTERM and
 * SIGHUP that only record the signal's number (a sig_atomic_t written by
 * the handler, read anywhere). While a signal is recorded every transfer of
 * the transport (http.c) stops within about a second, and a transfer asked
 * for afterwards is not started: both fail with code "INTERRUPTED". The
 * record stays set for the rest of the process: a program that caught a
 * signal is on its way out. SIGPIPE is ignored from then on, so a write to
 * a closed pipe fails with EPIPE instead of ending the process.
 */
#ifndef FSX_INTERRUPT_H
#define FSX_INTERRUPT_H

/* Install the handlers (again, if something replaced them). Returns 0, or -1
 * when sigaction failed (errno tells why). */
int fsx_interrupt_catch(void);
/* The number of the signal recorded, or 0 when none was. */
int fsx_interrupt_signal(void);

#endif
