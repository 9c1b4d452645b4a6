/*
 * daemon - state shared by the trustmilter daemon's parts (main.c, callbacks.c,
 * reply.c). Not part of the policy library: only the daemon includes it.
 *
 * struct daemon holds the current environment (config snapshot + resolver +
 * DKIM engine, see session.h) and the count of open milter connections, both
 * under one mutex. A connection takes a reference to the environment at its
 * start and keeps it until it closes, so a reload (SIGUSR1) swaps the pointer
 * without disturbing connections in flight; the old environment is freed when
 * its last connection drops it.
 *
 * Stopping: with libmilter 8.17's worker pool, once smfi_main returns
 * (SIGTERM, SIGHUP, smfi_stop) no further command is read on any open
 * connection: the pool's poll loop ends. What is still running are the
 * callbacks in progress, above all end-of-message evaluations, and a worker
 * may go on with commands already waiting on its socket. The drain therefore
 * waits for running callbacks, not for connections: connections left idle
 * are closed when we exit, and the MTA applies milter_default_action
 * (tempfail) to a message it was still sending, so nothing is lost.
 */
#ifndef TM_DAEMON_H
#define TM_DAEMON_H

#include <pthread.h>
#include <libmilter/mfapi.h>
#include "session.h"
#include "verdict.h"

struct daemon {
	pthread_mutex_t lock;
	pthread_cond_t idle;      /* signalled when nbusy drops to 0 */
	tm_env *env;              /* current environment; guarded by lock */
	unsigned nconn;           /* open milter connections; guarded by lock */
	unsigned nbusy;           /* callbacks running right now; guarded by lock */
	unsigned long reloads;    /* successful reloads, for the log; guarded by lock */
};

/* daemon_init - empty state; daemon_set_env installs the first environment. */
int daemon_init(struct daemon *d);
/* daemon_swap_env - install e (taking over the caller's reference); returns
 * the previous environment for the caller to unref (NULL the first time). */
tm_env *daemon_swap_env(struct daemon *d, tm_env *e);
/* daemon_drain - after smfi_main returned: wait until no callback is running
 * (and none started during a short grace period) or seconds have passed;
 * returns the number of callbacks still running. */
unsigned daemon_drain(struct daemon *d, unsigned seconds);
/* daemon_busy_enter / daemon_busy_leave - bracket every callback (see
 * DAEMON_BUSY_SCOPE in callbacks.c) so the drain knows what is in flight. */
struct daemon *daemon_busy_enter(struct daemon *d);
void daemon_busy_leave(struct daemon **d);
/* daemon_destroy - release the state (the environment reference included). */
void daemon_destroy(struct daemon *d);

/* daemon_env_acquire - a new reference to the current environment (never NULL once started). */
tm_env *daemon_env_acquire(struct daemon *d);
/* daemon_conn_opened / daemon_conn_closed - count connections for the drain on shutdown. */
void daemon_conn_opened(struct daemon *d);
void daemon_conn_closed(struct daemon *d);

/* callbacks_init - remember d for the callbacks (once, before smfi_register
 * and smfi_main) and return the filter description for smfi_register. */
struct smfiDesc callbacks_init(struct daemon *d);

/* reply_apply - carry out a verdict on the MTA side (header removals and
 * insertions, quarantine, SMTP reply) and return the SMFIS_* code for eom.
 * leadspc: SMFIP_HDR_LEADSPC was negotiated, so inserted values need their
 * own leading space. qid is used in log lines. */
sfsistat reply_apply(SMFICTX *ctx, const struct verdict *v, int leadspc, const char *qid);
/* reply_on_error - answer for a message trustmilter could not evaluate:
 * tempfail with policy.tempfail_reply, or accept, per policy.on_error. */
sfsistat reply_on_error(SMFICTX *ctx, const conf *c, const char *qid, const char *why);

#endif
