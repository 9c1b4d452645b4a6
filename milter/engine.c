/*
 * engine - the milter server: listener, worker pool, drain (see engine.h).
 *
 * Why our own server and not libmilter's: Debian's libmilter 8.17 runs each
 * command through its worker pool. After every burst of commands the worker
 * hands the connection back to a poll thread (a pipe write), which polls,
 * wakes a worker (a condition variable), which polls the socket again and
 * reads the command with two reads. Postfix flushes every milter command on
 * its own, so under Postfix that came to about 250 system calls and a thread
 * creation per message, more CPU than the policy checks. Here a connection
 * stays on one thread: one blocking read takes whatever the MTA has sent,
 * every complete command in it is handled, and all replies leave in one
 * write.
 */
#define _GNU_SOURCE 1   /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "engine.h"
#include "buf.h"

#define STOP_GRACE_S 2                 /* after the drain: workers to notice their closed sockets */

struct econn {
	int fd;
	mp_conn *mp;
	struct econn *prev, *next;
};

struct engine {
	int lfd;
	int tcp;                    /* TCP: acknowledge each read at once (see serve) */
	int stop_pipe[2];
	unsigned timeout;
	const struct mp_handler *h;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t done;        /* a connection or a worker ended (for the drain) */
	unsigned nworkers, nidle;   /* all workers, those waiting in accept; guarded by lock */
	int closed;                 /* the listener is shut down; guarded by lock */
	struct econn *conns;        /* open connections; guarded by lock */
	unsigned nconns;
	int stopping;               /* atomic */
};

/* ---- listening socket ---- */

/* listen_unix - a unix socket at path; a socket file left behind is removed. */
static int listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (path[0] != '/' || str_copy(sun.sun_path, sizeof(sun.sun_path), path, strlen(path)) != 0) {
		snprintf(err, errlen, "%s: not an absolute path that fits a unix socket", path);
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* listen_inet - "PORT[@HOST]" for family AF_INET or AF_INET6. TCP_NODELAY is
 * set on the listener: Linux copies it to every accepted connection, so our
 * replies never wait for the MTA's delayed ACK (neither Postfix nor Sendmail
 * sets it on their side). */
static int listen_inet(const char *spec, int family, char *err, size_t errlen)
{
	char port[8], host[256] = "";
	const char *at = strchr(spec, '@');
	size_t pl = at ? (size_t)(at - spec) : strlen(spec);
	if (pl == 0 || pl >= sizeof(port) || (at && str_copy(host, sizeof(host), at + 1, strlen(at + 1)) != 0)) {
		snprintf(err, errlen, "%s: want PORT@HOST", spec);
		return -1;
	}
	memcpy(port, spec, pl);
	port[pl] = '\0';
	struct addrinfo hints, *ai = NULL;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	int g = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (g != 0) {
		snprintf(err, errlen, "%s: %s", spec, gai_strerror(g));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, SOMAXCONN) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(ai);
	return fd;
}

const char *engine_unix_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return spec + 5;
	if (strncmp(spec, "local:", 6) == 0)
		return spec + 6;
	return NULL;
}

int engine_spec_valid(const char *spec)
{
	const char *path = engine_unix_path(spec);
	if (path != NULL)
		return path[0] == '/';
	if (strncmp(spec, "inet:", 5) == 0 || strncmp(spec, "inet6:", 6) == 0) {
		const char *p = strchr(spec, ':') + 1;
		size_t digits = strspn(p, "0123456789");
		return digits > 0 && digits <= 5 && (p[digits] == '\0' || p[digits] == '@') &&
		       atol(p) > 0 && atol(p) < 65536;
	}
	return 0;
}

/* listen_spec - a listening socket for one of the forms engine_spec_valid takes. */
static int listen_spec(const char *spec, char *err, size_t errlen)
{
	const char *path = engine_unix_path(spec);
	if (path != NULL)
		return listen_unix(path, err, errlen);
	if (strncmp(spec, "inet:", 5) == 0)
		return listen_inet(spec + 5, AF_INET, err, errlen);
	if (strncmp(spec, "inet6:", 6) == 0)
		return listen_inet(spec + 6, AF_INET6, err, errlen);
	snprintf(err, errlen, "%s: want unix:/path, inet:PORT@HOST or inet6:PORT@HOST", spec);
	return -1;
}

engine *engine_new(const char *spec, unsigned timeout, const struct mp_handler *h, void *arg,
		   char *err, size_t errlen)
{
	engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->h = h;
	e->arg = arg;
	e->timeout = timeout;
	e->lfd = -1;
	e->stop_pipe[0] = e->stop_pipe[1] = -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->done, &ca);
	pthread_condattr_destroy(&ca);
	if (pipe2(e->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		engine_free(e);
		return NULL;
	}
	e->lfd = listen_spec(spec, err, errlen);
	e->tcp = engine_unix_path(spec) == NULL;
	if (e->lfd < 0) {
		engine_free(e);
		return NULL;
	}
	return e;
}

/* ---- one connection ---- */

/* send_all - write the queued replies; -1 on error or timeout. */
static int send_all(int fd, mp_conn *mp)
{
	size_t len;
	const unsigned char *p = mp_output(mp, &len);
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		mp_output_done(mp, (size_t)w);
		p = mp_output(mp, &len);
	}
	return 0;
}

/* serve - read, handle, reply until the MTA quits, an error, or a stop
 * between messages. */
static void serve(engine *e, struct econn *ec)
{
	if (e->timeout > 0) {
		struct timeval tv = { .tv_sec = (time_t)e->timeout, .tv_usec = 0 };
		setsockopt(ec->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(ec->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	}
	unsigned silent = 0;     /* seconds without a byte, between commands */
	for (;;) {
		size_t room;
		unsigned char *p = mp_inbuf(ec->mp, &room);
		if (p == NULL) {
			syslog(LOG_ERR, "milter connection: out of memory");
			return;
		}
		ssize_t r = recv(ec->fd, p, room, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN && !mp_partial(ec->mp) && e->timeout > 0 &&
		    (silent += e->timeout) < ENGINE_SILENCE_MAX_S &&
		    !__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE))
			continue;
		silent = 0;
		if (r <= 0) {
			if (r < 0 && !__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE))
				syslog(LOG_WARNING, "milter connection: read: %s", errno != EAGAIN ? strerror(errno) :
				       mp_partial(ec->mp) ? "a command did not arrive within milter.timeout" :
				       "the MTA was silent for an hour");
			return;
		}
		if (e->tcp) {
			/* Acknowledge now. Postfix writes milter commands without
			 * TCP_NODELAY and we answer none of them before end of
			 * message: with a delayed ACK (up to 40 ms) its next small
			 * write would wait for it (Nagle). Not permanent in Linux,
			 * so once per read. */
			int one = 1;
			setsockopt(ec->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		}
		int st = mp_received(ec->mp, (size_t)r);
		if (send_all(ec->fd, ec->mp) != 0) {
			syslog(LOG_WARNING, "milter connection: write: %s",
			       errno == EAGAIN ? "timeout (milter.timeout)" : strerror(errno));
			return;
		}
		if (st < 0)
			syslog(LOG_WARNING, "milter connection closed: %s", mp_error(ec->mp));
		if (st != 0)
			return;
		if (__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE) && !mp_in_message(ec->mp))
			return;
	}
}

/* ---- workers ---- */

static void conn_link(engine *e, struct econn *ec)
{
	ec->prev = NULL;
	ec->next = e->conns;
	if (e->conns)
		e->conns->prev = ec;
	e->conns = ec;
	e->nconns++;
}

static void conn_unlink(engine *e, struct econn *ec)
{
	if (ec->prev)
		ec->prev->next = ec->next;
	else
		e->conns = ec->next;
	if (ec->next)
		ec->next->prev = ec->prev;
	e->nconns--;
}

static int spawn(engine *e);

/* take - one accepted connection, from its first command to its end. */
static void take(engine *e, int fd)
{
	struct econn ec = { .fd = fd, .mp = mp_new(e->h, e->arg) };
	if (ec.mp == NULL) {
		syslog(LOG_ERR, "milter connection: out of memory");
		close(fd);
		return;
	}
	pthread_mutex_lock(&e->lock);
	conn_link(e, &ec);
	pthread_mutex_unlock(&e->lock);
	serve(e, &ec);
	pthread_mutex_lock(&e->lock);
	conn_unlink(e, &ec);   /* before close: the drain must never shut down a reused fd */
	pthread_mutex_unlock(&e->lock);
	mp_free(ec.mp);        /* the handler's close (may log, free a session) */
	close(fd);
}

/* worker - accept a connection and serve it, again and again. The kernel
 * hands each new connection to exactly one thread blocked in accept, so
 * nothing is passed between threads; a worker that takes the last waiting
 * place starts another, and one finds enough others waiting leaves. */
static void *worker(void *arg)
{
	engine *e = arg;
	pthread_mutex_lock(&e->lock);
	while (!e->closed) {
		e->nidle++;
		pthread_mutex_unlock(&e->lock);
		int fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
		int err = errno;
		pthread_mutex_lock(&e->lock);
		e->nidle--;
		if (fd < 0) {
			if (e->closed || err == EINTR || err == EAGAIN || err == ECONNABORTED || err == EPROTO)
				continue;
			/* out of descriptors or memory: wait for connections to end */
			pthread_mutex_unlock(&e->lock);
			syslog(LOG_ERR, "accept: %s", strerror(err));
			struct timespec ts = { 0, 100 * 1000000L };
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&e->lock);
			continue;
		}
		if (e->nidle == 0 && e->nworkers < ENGINE_MAX_WORKERS && spawn(e) != 0)
			syslog(LOG_WARNING, "cannot start another worker thread: new connections "
			       "wait until one is free");
		pthread_mutex_unlock(&e->lock);
		take(e, fd);
		pthread_mutex_lock(&e->lock);
		pthread_cond_broadcast(&e->done);
		if (e->nidle >= ENGINE_IDLE_MAX)
			break;
	}
	e->nworkers--;
	pthread_cond_broadcast(&e->done);
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

/* spawn - one more worker (lock held). */
static int spawn(engine *e)
{
	pthread_attr_t at;
	pthread_t t;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int r = pthread_create(&t, &at, worker, e);
	pthread_attr_destroy(&at);
	if (r != 0)
		return -1;
	e->nworkers++;
	return 0;
}

/* ---- run, stop, drain ---- */

int engine_run(engine *e)
{
	pthread_mutex_lock(&e->lock);
	int rc = spawn(e);
	pthread_mutex_unlock(&e->lock);
	if (rc != 0) {
		syslog(LOG_ERR, "cannot start a worker thread");
		return -1;
	}
	struct pollfd pf = { .fd = e->stop_pipe[0], .events = POLLIN };
	while (poll(&pf, 1, -1) < 0 && errno == EINTR)
		;
	/* stop accepting: shutdown wakes every thread blocked in accept */
	pthread_mutex_lock(&e->lock);
	e->closed = 1;
	shutdown(e->lfd, SHUT_RDWR);
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += STOP_GRACE_S;
	while (e->nidle > 0 && pthread_cond_timedwait(&e->done, &e->lock, &until) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&e->lock);
	return 0;
}

void engine_stop(engine *e)
{
	char x = 's';
	(void)!write(e->stop_pipe[1], &x, 1);
}

/* wait_until - timed wait on e->done (lock held); nonzero once past t. */
static int wait_until(engine *e, const struct timespec *t)
{
	return pthread_cond_timedwait(&e->done, &e->lock, t) == ETIMEDOUT;
}

/* count_in_msg - connections in the middle of a message (lock held). */
static unsigned count_in_msg(const engine *e)
{
	unsigned n = 0;
	for (const struct econn *c = e->conns; c; c = c->next)
		n += mp_in_message(c->mp) != 0;
	return n;
}

unsigned engine_drain(engine *e, unsigned seconds)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += seconds;
	pthread_mutex_lock(&e->lock);
	__atomic_store_n(&e->stopping, 1, __ATOMIC_RELEASE);
	for (struct econn *c = e->conns; c; c = c->next)
		if (!mp_in_message(c->mp))
			shutdown(c->fd, SHUT_RDWR);
	while (e->nconns > 0 && !wait_until(e, &until))
		;
	unsigned left = count_in_msg(e);
	for (struct econn *c = e->conns; c; c = c->next)
		shutdown(c->fd, SHUT_RDWR);
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += STOP_GRACE_S;
	while (e->nworkers > 0 && !wait_until(e, &until))
		;
	pthread_mutex_unlock(&e->lock);
	return left;
}

void engine_counts(engine *e, unsigned *conns, unsigned *messages)
{
	pthread_mutex_lock(&e->lock);
	*conns = e->nconns;
	*messages = count_in_msg(e);
	pthread_mutex_unlock(&e->lock);
}

void engine_free(engine *e)
{
	if (e == NULL)
		return;
	pthread_mutex_lock(&e->lock);
	unsigned busy = e->nworkers;
	pthread_mutex_unlock(&e->lock);
	if (busy > 0)
		return;   /* a worker still runs: leave everything to the process exit */
	if (e->lfd >= 0)
		close(e->lfd);
	if (e->stop_pipe[0] >= 0)
		close(e->stop_pipe[0]);
	if (e->stop_pipe[1] >= 0)
		close(e->stop_pipe[1]);
	pthread_cond_destroy(&e->done);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
