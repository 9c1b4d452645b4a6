/*
 * daemon - the daemon's shared state: the current environment (see
 * daemon.h). Kept apart from main.c so that the locking rules live in one
 * small file.
 */
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/uio.h>
#include "daemon.h"

/* daemon_init - the mutex, no environment yet. */
int daemon_init(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	return pthread_mutex_init(&d->lock, NULL) != 0 ? -1 : 0;
}

/* daemon_swap_env - the reload's atomic step: one pointer under the lock. */
tm_env *daemon_swap_env(struct daemon *d, tm_env *e)
{
	pthread_mutex_lock(&d->lock);
	tm_env *old = d->env;
	d->env = e;
	if (old != NULL)
		d->reloads++;
	pthread_mutex_unlock(&d->lock);
	return old;
}

/* daemon_env_acquire - take the reference under the lock so that a
 * concurrent swap cannot free the environment between read and ref. */
tm_env *daemon_env_acquire(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	tm_env *e = d->env ? tm_env_ref(d->env) : NULL;
	pthread_mutex_unlock(&d->lock);
	return e;
}

/* daemon_destroy - drop our environment reference; connections still open
 * (after a drain timeout) keep theirs, so nothing is freed under them. */
void daemon_destroy(struct daemon *d)
{
	tm_env_unref(daemon_swap_env(d, NULL));
}

/* daemon_log_line - see daemon.h. */
void daemon_log_line(const struct daemon *d, const char *line, size_t len)
{
	if (!d->log_direct) {
		syslog(LOG_INFO, "%.*s", (int)len, line);
		return;
	}
	char pre[48];
	int n = snprintf(pre, sizeof(pre), "trustmilter[%ld]: ", d->log_pid);
	struct iovec v[3] = {
		{ pre, n > 0 && (size_t)n < sizeof(pre) ? (size_t)n : 0 },
		{ (void *)line, len },
		{ "\n", 1 },
	};
	(void)!writev(2, v, 3);
}
