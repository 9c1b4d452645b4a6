/*
 * engine - the milter server: listener, connections, workers, drain (see
 * engine.h).
 *
 * Why our own server and not libmilter's: Debian's libmilter 8.17 runs each
 * command through its worker pool. After every burst of commands the worker
 * hands the connection back to a poll thread (a pipe write), which polls,
 * wakes a worker (a condition variable), which polls the socket again and
 * reads the command with two reads. Postfix flushes every milter command on
 * its own, so under Postfix that came to about 250 system calls and a thread
 * creation per message, more CPU than the policy checks. Here the workers
 * wait in epoll_wait themselves: a burst costs the wake-up, one read, one
 * write when there are replies, and the re-arm; nothing is handed between
 * threads.
 *
 * Why not a thread per connection (the earlier design): an idle or slow
 * connection then holds a thread, its stack pages and its allocations for
 * as long as the MTA keeps it, and the thread cap decides when new clients
 * start to wait. In the epoll set it holds only its state.
 */
#define _GNU_SOURCE 1   /* accept4, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "engine.h"
#include "buf.h"

#define STOP_GRACE_S 2           /* after the drain: workers to notice the end */
#define ACCEPT_PAUSE_MS 100      /* out of descriptors: accept again after this */
#define ENGINE_READ_MAX 65536    /* one read, on the worker's stack */

/* Why a connection's wait ends (econn.wait). */
enum wait_kind { WAIT_COMMAND, WAIT_IDLE };

struct econn {
	int fd;
	mp_conn *mp;
	long long deadline;         /* atomic: monotonic ms; 0 while a worker holds it */
	int wait;                   /* atomic: enum wait_kind of the deadline */
	int cut;                    /* atomic: shut down by the deadline check */
	struct econn *prev, *next;
};

struct engine {
	int lfd;
	int epfd;
	int quit_fd;                /* eventfd: readable once the workers must leave */
	int tcp;                    /* TCP: acknowledge each read at once (see handle) */
	int stop_pipe[2];
	struct engine_limits lim;
	const struct mp_handler *h;
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t done;        /* a connection or a worker ended (for the drain) */
	unsigned nworkers;          /* all workers; guarded by lock */
	unsigned nidle;             /* atomic: workers waiting in epoll_wait */
	int closed;                 /* the listener is shut down; guarded by lock */
	long long accept_resume;    /* accepting paused until then (0: not paused); guarded by lock */
	struct econn *conns;        /* open connections; guarded by lock */
	unsigned nconns;
	unsigned long refused;      /* over max_conns since the last log line; guarded by lock */
	long long refused_logged;   /* when that line was written; guarded by lock */
	int stopping;               /* atomic */
};

/* now_ms - the monotonic clock in milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

/* fd_room - raise the soft descriptor limit to the hard one; the number of
 * connections that then fit. */
static unsigned fd_room(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 0;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 4000000000u)
		return 4000000000u;
	return rl.rlim_cur > ENGINE_FD_RESERVE * 2 ? (unsigned)(rl.rlim_cur - ENGINE_FD_RESERVE)
						   : (unsigned)(rl.rlim_cur / 2);
}

/* arm - (re)start watching fd for input, once. */
static int arm(engine *e, int op, int fd, void *ptr)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = ptr };
	return epoll_ctl(e->epfd, op, fd, &ev);
}

engine *engine_new(const char *spec, const struct engine_limits *lim, const struct mp_handler *h,
		   void *arg, char *err, size_t errlen)
{
	engine *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->h = h;
	e->arg = arg;
	e->lim = *lim;
	e->lfd = e->epfd = e->quit_fd = -1;
	e->stop_pipe[0] = e->stop_pipe[1] = -1;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->done, &ca);
	pthread_condattr_destroy(&ca);
	unsigned room = fd_room();
	if (e->lim.max_conns > room) {
		syslog(LOG_WARNING, "milter.max_connections %u does not fit the descriptor limit "
		       "(RLIMIT_NOFILE; systemd: LimitNOFILE): at most %u connections", e->lim.max_conns, room);
		e->lim.max_conns = room;
	}
	if (pipe2(e->stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0 ||
	    (e->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (e->quit_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
		snprintf(err, errlen, "pipe/epoll/eventfd: %s", strerror(errno));
		engine_free(e);
		return NULL;
	}
	struct epoll_event qev = { .events = EPOLLIN, .data.ptr = &e->quit_fd };
	e->lfd = listen_spec(spec, err, errlen);
	e->tcp = engine_unix_path(spec) == NULL;
	if (e->lfd < 0) {
		engine_free(e);
		return NULL;
	}
	if (fcntl(e->lfd, F_SETFL, O_NONBLOCK) != 0 ||
	    epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->quit_fd, &qev) != 0) {
		snprintf(err, errlen, "listener: %s", strerror(errno));
		engine_free(e);
		return NULL;
	}
	return e;
}

/* ---- one connection ---- */

/* send_all - write the queued replies; a full socket buffer may make us
 * wait up to timeout seconds in all. -1 on error or timeout. */
static int send_all(int fd, mp_conn *mp, unsigned timeout)
{
	size_t len;
	const unsigned char *p = mp_output(mp, &len);
	long long until = 0;
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			long long now = now_ms();
			if (until == 0)
				until = now + 1000LL * timeout;
			struct pollfd pf = { .fd = fd, .events = POLLOUT };
			if (now >= until || poll(&pf, 1, (int)(until - now)) == 0) {
				errno = EAGAIN;
				return -1;
			}
			continue;
		}
		if (w <= 0)
			return -1;
		mp_output_done(mp, (size_t)w);
		p = mp_output(mp, &len);
	}
	return 0;
}

/* cut_reason - the log text for a connection the deadline check closed. */
static const char *cut_reason(const engine *e, int wait, char *out, size_t n)
{
	if (wait == WAIT_COMMAND)
		snprintf(out, n, "a command did not arrive whole within milter.timeout (%u s)",
			 e->lim.timeout);
	else
		snprintf(out, n, "the MTA was silent for milter.idle_timeout (%u s)", e->lim.idle_timeout);
	return out;
}

/* handle - a worker's turn on a ready connection: read what has arrived,
 * handle every complete command, write the replies. 0: the connection goes
 * back to the set (its deadline set); 1: the same, but nothing had arrived;
 * -1: it is over (QUIT, EOF, error, deadline, or a stop between messages). */
static int handle(engine *e, struct econn *ec)
{
	int stopping = __atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE);
	int got = 0;
	unsigned char in[ENGINE_READ_MAX];   /* commands are handled in place */
	for (;;) {
		ssize_t r = recv(ec->fd, in, sizeof(in), MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;      /* nothing (more) for now */
		got = 1;
		if (r <= 0) {
			char why[128];
			int cut = __atomic_load_n(&ec->cut, __ATOMIC_ACQUIRE);
			if (cut)
				syslog(LOG_WARNING, "milter connection closed: %s",
				       cut_reason(e, __atomic_load_n(&ec->wait, __ATOMIC_ACQUIRE), why, sizeof(why)));
			else if (r < 0 && !stopping)
				syslog(LOG_WARNING, "milter connection: read: %s", strerror(errno));
			return -1;
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
		int st = mp_input_at(ec->mp, in, (size_t)r, now_ms());
		if (send_all(ec->fd, ec->mp, e->lim.timeout) != 0) {
			syslog(LOG_WARNING, "milter connection: write: %s",
			       errno == EAGAIN ? "timeout (milter.timeout)" : strerror(errno));
			return -1;
		}
		if (st < 0)
			syslog(LOG_WARNING, "milter connection closed: %s", mp_error(ec->mp));
		if (st != 0)
			return -1;
		if (__atomic_load_n(&e->stopping, __ATOMIC_ACQUIRE) && !mp_in_message(ec->mp))
			return -1;
		if ((size_t)r < sizeof(in))
			break;      /* the socket had no more: wait in the set */
	}
	long long now = now_ms();
	long long dl = mp_deadline(ec->mp, now, 1000LL * e->lim.timeout, 1000LL * e->lim.idle_timeout);
	__atomic_store_n(&ec->wait, mp_partial(ec->mp) ? WAIT_COMMAND : WAIT_IDLE, __ATOMIC_RELEASE);
	__atomic_store_n(&ec->deadline, dl, __ATOMIC_RELEASE);
	return got ? 0 : 1;
}

/* ---- connections ---- */

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

/* conn_end - close a connection the calling worker holds. */
static void conn_end(engine *e, struct econn *ec)
{
	pthread_mutex_lock(&e->lock);
	conn_unlink(e, ec);   /* before close: the drain and the deadline check must never shut down a reused fd */
	pthread_cond_broadcast(&e->done);
	pthread_mutex_unlock(&e->lock);
	mp_free(ec->mp);      /* the handler's close (may log, free a session) */
	close(ec->fd);
	free(ec);
}

/* log_refused - the "cap reached" line, at most once per ENGINE_REFUSE_LOG_S
 * (lock held); force: write pending counts however recent the last line. */
static void log_refused(engine *e, long long now, int force)
{
	if (e->refused == 0 || (!force && e->refused_logged != 0 &&
				now - e->refused_logged < 1000LL * ENGINE_REFUSE_LOG_S))
		return;
	syslog(LOG_WARNING, "milter.max_connections (%u) reached: %lu new connection(s) refused "
	       "(closed at once; the MTA applies its milter_default_action)", e->lim.max_conns, e->refused);
	e->refused = 0;
	e->refused_logged = now;
}

/* conn_start - a new connection: served at once (the MTA negotiates right
 * after connecting, so its first command is often there already), then
 * into the set; closed at once over the cap. */
static void conn_start(engine *e, int fd)
{
	long long now = now_ms();
	struct econn *ec = calloc(1, sizeof(*ec));
	mp_conn *mp = ec ? mp_new(e->h, e->arg) : NULL;
	if (mp == NULL) {
		syslog(LOG_ERR, "milter connection: out of memory");
		free(ec);
		close(fd);
		return;
	}
	ec->fd = fd;
	ec->mp = mp;
	pthread_mutex_lock(&e->lock);
	int over = e->nconns >= e->lim.max_conns;
	if (over) {
		e->refused++;
		log_refused(e, now, 0);
	} else {
		conn_link(e, ec);
	}
	pthread_mutex_unlock(&e->lock);
	if (over) {
		mp_free(mp);
		free(ec);
		close(fd);
		return;
	}
	int h = handle(e, ec);
	if (h < 0) {
		conn_end(e, ec);
		return;
	}
	if (h == 1) {
		/* nothing came yet: the first command is due within milter.timeout */
		__atomic_store_n(&ec->wait, WAIT_COMMAND, __ATOMIC_RELEASE);
		__atomic_store_n(&ec->deadline, now + 1000LL * e->lim.timeout, __ATOMIC_RELEASE);
	}
	if (arm(e, EPOLL_CTL_ADD, fd, ec) != 0) {
		syslog(LOG_ERR, "epoll: %s", strerror(errno));
		conn_end(e, ec);
	}
}

/* accept_one - take one waiting connection and let another worker watch
 * the listener while this one serves it; out of descriptors, pause (the
 * deadline check resumes). */
static void accept_one(engine *e)
{
	int fd;
	do
		fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && (errno == EINTR || errno == ECONNABORTED || errno == EPROTO));
	int err = errno;
	if (fd >= 0 || err == EAGAIN || err == EWOULDBLOCK) {
		/* after engine_run removed the listener this fails harmlessly */
		arm(e, EPOLL_CTL_MOD, e->lfd, &e->lfd);
	} else {
		pthread_mutex_lock(&e->lock);
		if (!e->closed) {
			syslog(LOG_ERR, "accept: %s", strerror(err));
			e->accept_resume = now_ms() + ACCEPT_PAUSE_MS;
		}
		pthread_mutex_unlock(&e->lock);
	}
	if (fd >= 0)
		conn_start(e, fd);
}

/* ---- workers ---- */

static int spawn(engine *e);

/* worker - take a ready connection (or the listener) from the set, handle
 * it, put it back; again and again until the engine ends. A worker that
 * leaves none waiting starts another; one that finds enough waiting leaves. */
static void *worker(void *arg)
{
	engine *e = arg;
	for (;;) {
		__atomic_add_fetch(&e->nidle, 1, __ATOMIC_ACQ_REL);
		struct epoll_event ev;
		int n = epoll_wait(e->epfd, &ev, 1, -1);
		unsigned idle = __atomic_sub_fetch(&e->nidle, 1, __ATOMIC_ACQ_REL);
		if (n < 0 && errno != EINTR) {
			syslog(LOG_ERR, "epoll_wait: %s", strerror(errno));
			break;
		}
		if (n <= 0)
			continue;
		if (ev.data.ptr == &e->quit_fd)
			break;
		if (idle == 0) {
			pthread_mutex_lock(&e->lock);
			if (e->nworkers < ENGINE_MAX_WORKERS && spawn(e) != 0)
				syslog(LOG_WARNING, "cannot start another worker thread: ready "
				       "connections wait until one is free");
			pthread_mutex_unlock(&e->lock);
		}
		if (ev.data.ptr == &e->lfd) {
			accept_one(e);
		} else {
			struct econn *ec = ev.data.ptr;
			__atomic_store_n(&ec->deadline, 0, __ATOMIC_RELEASE);
			if (handle(e, ec) < 0 || arm(e, EPOLL_CTL_MOD, ec->fd, ec) != 0)
				conn_end(e, ec);
		}
		if (__atomic_load_n(&e->nidle, __ATOMIC_ACQUIRE) >= ENGINE_IDLE_MAX)
			break;
	}
	pthread_mutex_lock(&e->lock);
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

/* ---- deadlines ---- */

/* tick - the periodic duties (lock held): shut down every connection past
 * its deadline (its worker then closes it and logs why), resume a paused
 * accept, write a pending "cap reached" line. */
static void tick(engine *e)
{
	long long now = now_ms();
	for (struct econn *c = e->conns; c; c = c->next) {
		long long dl = __atomic_load_n(&c->deadline, __ATOMIC_ACQUIRE);
		if (dl != 0 && now >= dl && !__atomic_load_n(&c->cut, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&c->cut, 1, __ATOMIC_RELEASE);
			shutdown(c->fd, SHUT_RDWR);
		}
	}
	if (e->accept_resume != 0 && now >= e->accept_resume && !e->closed) {
		e->accept_resume = 0;
		arm(e, EPOLL_CTL_MOD, e->lfd, &e->lfd);
	}
	log_refused(e, now, 0);
}

/* wait_until - timed wait on e->done (lock held), at most one tick long,
 * then the tick; nonzero once past t. */
static int wait_until(engine *e, const struct timespec *t)
{
	struct timespec tick_end;
	clock_gettime(CLOCK_MONOTONIC, &tick_end);
	tick_end.tv_nsec += ENGINE_TICK_MS * 1000000L;
	if (tick_end.tv_nsec >= 1000000000L) {
		tick_end.tv_sec++;
		tick_end.tv_nsec -= 1000000000L;
	}
	int last = tick_end.tv_sec > t->tv_sec || (tick_end.tv_sec == t->tv_sec && tick_end.tv_nsec >= t->tv_nsec);
	int r = pthread_cond_timedwait(&e->done, &e->lock, last ? t : &tick_end);
	tick(e);
	return last && r == ETIMEDOUT;
}

/* ---- run, stop, drain ---- */

int engine_run(engine *e)
{
	pthread_mutex_lock(&e->lock);
	int rc = spawn(e);
	if (rc == 0)
		rc = arm(e, EPOLL_CTL_ADD, e->lfd, &e->lfd);
	pthread_mutex_unlock(&e->lock);
	if (rc != 0) {
		syslog(LOG_ERR, "cannot start a worker thread or watch the listener");
		return -1;
	}
	struct pollfd pf = { .fd = e->stop_pipe[0], .events = POLLIN };
	for (;;) {
		int n = poll(&pf, 1, ENGINE_TICK_MS);
		if (n > 0)
			break;
		pthread_mutex_lock(&e->lock);
		tick(e);
		pthread_mutex_unlock(&e->lock);
	}
	/* stop accepting */
	pthread_mutex_lock(&e->lock);
	e->closed = 1;
	epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->lfd, NULL);
	shutdown(e->lfd, SHUT_RDWR);
	log_refused(e, now_ms(), 1);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

void engine_stop(engine *e)
{
	char x = 's';
	(void)!write(e->stop_pipe[1], &x, 1);
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
	while (e->nconns > 0 && !wait_until(e, &until))
		;
	/* the workers leave: the quit event stays readable for all of them */
	uint64_t one = 1;
	(void)!write(e->quit_fd, &one, sizeof(one));
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
	unsigned busy = e->nworkers + e->nconns;
	pthread_mutex_unlock(&e->lock);
	if (busy > 0)
		return;   /* a worker still runs: leave everything to the process exit */
	int fds[] = { e->lfd, e->epfd, e->quit_fd, e->stop_pipe[0], e->stop_pipe[1] };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	pthread_cond_destroy(&e->done);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
