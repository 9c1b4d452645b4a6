/*
 * daemon - state shared by the trustmilter daemon's parts (main.c, callbacks.c,
 * reply.c). Not part of the policy library: only the daemon includes it.
 *
 * struct daemon holds the current environment (config snapshot + resolver +
 * DKIM engine, see session.h) under a mutex. A connection takes a reference to the environment at its
 * start and keeps it until it closes, so a reload (SIGUSR1) swaps the pointer
 * without disturbing connections in flight; the old environment is freed when
 * its last connection drops it.
 *
 * Connections and their stop (the drain) are engine.c's.
 */
#ifndef TM_DAEMON_H
#define TM_DAEMON_H

#include <pthread.h>
#include "mproto.h"
#include "session.h"
#include "verdict.h"

struct daemon {
	pthread_mutex_t lock;
	tm_env *env;              /* current environment; guarded by lock */
	unsigned long reloads;    /* successful reloads, for the log; guarded by lock */
	/* set before the workers start, read-only afterwards: */
	int log_direct;           /* per-message lines straight to stderr (no syslog socket) */
	long log_pid;             /* for their "trustmilter[PID]: " prefix */
	struct feedsink *feedback; /* report messages go here (feedsink.h), or NULL */
};

/* daemon_init - empty state; daemon_swap_env installs the first environment. */
int daemon_init(struct daemon *d);
/* daemon_swap_env - install e (taking over the caller's reference); returns
 * the previous environment for the caller to unref (NULL the first time). */
tm_env *daemon_swap_env(struct daemon *d, tm_env *e);
/* daemon_destroy - release the state (the environment reference included). */
void daemon_destroy(struct daemon *d);

/* daemon_env_acquire - a new reference to the current environment (never NULL once started). */
tm_env *daemon_env_acquire(struct daemon *d);
/* daemon_log_line - the one line per message: to syslog, or with
 * log_direct as one write to standard error in syslog's LOG_PERROR form
 * (glibc would otherwise try to reach /dev/log again for every line). */
void daemon_log_line(const struct daemon *d, const char *line, size_t len);
/* callbacks_handler - the milter events (callbacks.c); their arg is the
 * struct daemon. */
const struct mp_handler *callbacks_handler(void);

/* reply_apply - carry out a verdict on the MTA side (header removals and
 * insertions, quarantine, SMTP reply) and return the answer for end of
 * message. leadspc: SMFIP_HDR_LEADSPC was negotiated, so inserted values
 * need their own leading space. qid is used in log lines. */
enum mp_action reply_apply(mp_conn *mc, const struct verdict *v, int leadspc, const char *qid);
/* reply_on_error - answer for a message trustmilter could not evaluate:
 * tempfail with policy.tempfail_reply, or accept, per policy.on_error. */
struct policy;
enum mp_action reply_on_error(mp_conn *mc, const struct policy *pol, const char *qid,
                              const char *why);

#endif
