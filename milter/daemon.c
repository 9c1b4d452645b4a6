/*
 * daemon - the daemon's shared state: the current environment and the count
 * of open connections (see daemon.h). Kept apart from main.c so that the
 * locking rules live in one small file.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "daemon.h"

/* daemon_init - mutex, condition variable (on the monotonic clock, so a
 * clock change cannot stretch or cut the drain), no environment yet. */
int daemon_init(struct daemon *d)
{
	memset(d, 0, sizeof(*d));
	pthread_condattr_t ca;
	if (pthread_condattr_init(&ca) != 0)
		return -1;
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	int r = pthread_cond_init(&d->idle, &ca);
	pthread_condattr_destroy(&ca);
	if (r != 0)
		return -1;
	if (pthread_mutex_init(&d->lock, NULL) != 0) {
		pthread_cond_destroy(&d->idle);
		return -1;
	}
	return 0;
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

/* daemon_conn_opened - one more connection. */
void daemon_conn_opened(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	d->nconn++;
	pthread_mutex_unlock(&d->lock);
}

/* daemon_conn_closed - one less. */
void daemon_conn_closed(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->nconn > 0)
		d->nconn--;
	pthread_mutex_unlock(&d->lock);
}

/* daemon_busy_enter - a callback starts. */
struct daemon *daemon_busy_enter(struct daemon *d)
{
	pthread_mutex_lock(&d->lock);
	d->nbusy++;
	pthread_mutex_unlock(&d->lock);
	return d;
}

/* daemon_busy_leave - a callback ends; wake the drain when none runs. */
void daemon_busy_leave(struct daemon **dp)
{
	struct daemon *d = *dp;
	pthread_mutex_lock(&d->lock);
	if (d->nbusy > 0)
		d->nbusy--;
	if (d->nbusy == 0)
		pthread_cond_broadcast(&d->idle);
	pthread_mutex_unlock(&d->lock);
}

#define DRAIN_GRACE_MS 200   /* a worker may pick up a command already waiting on its socket */

/* deadline_passed - nonzero once now >= t. */
static int deadline_passed(const struct timespec *t)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

/* daemon_drain - smfi_stop() returns at once; this waits for the callbacks
 * in flight: idle until a grace period passes with nothing running. */
unsigned daemon_drain(struct daemon *d, unsigned seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&d->lock);
	for (;;) {
		while (d->nbusy > 0) {
			if (pthread_cond_timedwait(&d->idle, &d->lock, &until) == ETIMEDOUT)
				break;
		}
		if (d->nbusy > 0 || deadline_passed(&until))
			break;
		pthread_mutex_unlock(&d->lock);
		struct timespec grace = { 0, DRAIN_GRACE_MS * 1000000L };
		nanosleep(&grace, NULL);
		pthread_mutex_lock(&d->lock);
		if (d->nbusy == 0)
			break;
	}
	unsigned left = d->nbusy;
	pthread_mutex_unlock(&d->lock);
	return left;
}

/* daemon_destroy - drop our environment reference; connections still open
 * (after a drain timeout) keep theirs, so nothing is freed under them. */
void daemon_destroy(struct daemon *d)
{
	tm_env_unref(daemon_swap_env(d, NULL));
}
