/*
 * trustmilter - the milter daemon: options, configuration, socket, daemon
 * mode, pid file, privilege drop, signals, the engine (engine.c) and the drain on stop.
 *
 * Start-up order, and why:
 *   1. options, configuration (a config error stops us before anything else);
 *   2. syslog; the listening socket as root (the socket directory is usually
 *      root's), then the socket's mode and owner;
 *   3. fork into the background (before any thread exists: fork copies only
 *      the calling thread), pid file;
 *   4. drop privileges, then build the environment (resolver, DKIM engine):
 *      built as the same user a reload will run as, so what starts also reloads;
 *   5. signal thread, then the engine's accept loop (engine.c).
 *
 * Signals: every signal we care about is blocked in all threads, and one
 * signal thread sigwaits for them: SIGUSR1 reloads; SIGTERM, SIGHUP and
 * SIGINT stop the engine (it stops accepting); SIGUSR2 is internal ("exit
 * the signal thread"). So every signal has exactly one receiver and no race
 * decides what happens. After the accept loop returns, engine_drain lets the
 * messages in flight finish for up to milter.drain_seconds, then the shared
 * state is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include "daemon.h"
#include "engine.h"
#include "store.h"
#include "metrics.h"
#include "buf.h"
#include "confcheck.h"
#include "signkeys.h"
#include "feedsink.h"

#define ERR_MAX 1024

struct opts {
	const char *conf_path;
	const char *socket;       /* -s: overrides milter.socket */
	int foreground;
	int test_only;
};

/* Everything main() owns; passed to the signal thread by pointer. */
struct runtime {
	struct opts o;
	struct daemon d;
	engine *eng;
	pthread_t sigthread;
	int pidfd;
	char pidfile[4096];
	char sockpath[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t sockdev;            /* the socket file we created, so that we */
	ino_t sockino;            /* never remove another daemon's socket */
	store *store;             /* audit store and counters: process-wide, opened once, */
	metrics *metrics;         /* handed to every environment (they outlive reloads) */
};

/* usage - print the synopsis. */
static void usage(FILE *f)
{
	fprintf(f, "usage: trustmilter [-f] [-n] [-V] [-c FILE] [-s SOCKET]\n"
		   "  -c FILE    configuration file (default %s/trustmilter.conf)\n"
		   "  -f         stay in the foreground, log to stderr too\n"
		   "  -n         check the configuration and exit (0 good, 1 bad)\n"
		   "  -s SOCKET  listen here instead of milter.socket\n"
		   "             (unix:/path, inet:PORT@HOST, inet6:PORT@HOST)\n"
		   "  -V         print the version and exit\n", TM_SYSCONFDIR);
}

static const struct { const char *name; int code; } facilities[] = {
	{ "mail", LOG_MAIL }, { "daemon", LOG_DAEMON }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 }, { "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 }, { "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

/* facility_code - syslog facility by name, -1 if unknown. */
static int facility_code(const char *name)
{
	for (size_t i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].code;
	return -1;
}

static int owner_ids(const char *spec, uid_t *uid, gid_t *gid);

/* check_daemon_keys - validate what conf.c cannot know about the milter.* keys. */
static int check_daemon_keys(const conf *c, char *err, size_t errlen)
{
	const char *path = conf_path(c);
	if (facility_code(conf_str(c, "milter.syslog_facility")) < 0) {
		snprintf(err, errlen, "%s: milter.syslog_facility \"%s\" is not a syslog facility "
			 "(mail, daemon, user, local0..local7)", path, conf_str(c, "milter.syslog_facility"));
		return -1;
	}
	const char *user = conf_str(c, "milter.user"), *owner = conf_str(c, "milter.socket_owner");
	uid_t uid;
	gid_t gid;
	if (user[0] != '\0' && getpwnam(user) == NULL) {
		snprintf(err, errlen, "%s: milter.user \"%s\": no such user (create it, or name "
			 "an existing unprivileged user)", path, user);
		return -1;
	}
	if (user[0] == '\0' && geteuid() == 0) {
		snprintf(err, errlen, "%s: refusing to run as root: milter.user is empty (name an "
			 "unprivileged user, or \"root\" to keep root deliberately)", path);
		return -1;
	}
	if (owner[0] != '\0' && owner_ids(owner, &uid, &gid) != 0) {
		snprintf(err, errlen, "%s: milter.socket_owner \"%s\": unknown user or group", path, owner);
		return -1;
	}
	return 0;
}

/* socket_check - milter.socket for conf_check (engine.c knows the forms). */
static int socket_check(const char *v, char *why, size_t whylen)
{
	if (engine_spec_valid(v))
		return 0;
	snprintf(why, whylen, "\"%s\": want unix:/path, inet:PORT@HOST or inet6:PORT@HOST", v);
	return -1;
}

/* metrics_check - metrics.listen for conf_check (stats/metrics.c knows the forms). */
static int metrics_check(const char *v, char *why, size_t whylen)
{
	return v[0] == '\0' ? 0 : metrics_listen_check(v, why, whylen);
}

static const struct conf_check daemon_checks[] = {
	{ "metrics.listen", metrics_check },
	{ "milter.socket", socket_check },
	{ NULL, NULL } };

/* check_values - every conf_check error into errs; their number. */
static size_t check_values(const conf *c, buf *errs)
{
	return conf_check(c, daemon_checks, errs);
}

/* load_config - read and validate the configuration; NULL with err. */
static conf *load_config(const struct opts *o, char *err, size_t errlen)
{
	conf *c = conf_load(o->conf_path, err, errlen);
	if (c == NULL)
		return NULL;
	if (o->socket != NULL && conf_set(c, "milter.socket", o->socket, err, errlen) != 0) {
		conf_unref(c);
		return NULL;
	}
	buf *errs = buf_new(1 << 16);
	size_t bad = errs ? check_values(c, errs) : 0;
	if (bad > 0) {
		/* the first error; trustmilter -n lists them all */
		const char *e = buf_data(errs);
		snprintf(err, errlen, "%.*s%s", (int)strcspn(e, "\n"), e,
			 bad > 1 ? " (and more: trustmilter -n lists every error)" : "");
	}
	buf_free(errs);
	if (bad > 0 || check_daemon_keys(c, err, errlen) != 0) {
		conf_unref(c);
		return NULL;
	}
	return c;
}

/* log_key_warnings - what loading the signing keys warned about (a
 * group-readable key file), one log line each. */
static void log_key_warnings(const tm_env *e)
{
	const char *w = signkeys_warnings(tm_env_signkeys(e));
	while (*w) {
		size_t n = strcspn(w, "\n");
		syslog(LOG_WARNING, "sign: %.*s", (int)n, w);
		w += n + (w[n] == '\n');
	}
}

/* build_env - configuration plus resolver and DKIM engine; NULL with err. */
static tm_env *build_env(const struct opts *o, char *err, size_t errlen)
{
	conf *c = load_config(o, err, errlen);
	if (c == NULL)
		return NULL;
	tm_env *e = tm_env_new(c, err, errlen);
	conf_unref(c);      /* tm_env_new took its own reference */
	if (e != NULL)
		log_key_warnings(e);
	return e;
}

/* store_log - the audit store's log lines go to syslog. */
static void store_log(void *arg, int is_error, const char *msg)
{
	(void)arg;
	syslog(is_error ? LOG_ERR : LOG_INFO, "audit store: %s", msg);
}

/* fatal - log (and print) a start-up error and exit. */
static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	char msg[ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	syslog(LOG_ERR, "fatal: %s", msg);
	exit(1);
}

/* socket_in_use - 1 if something accepts connections on the unix socket path
 * (another daemon: do not steal its socket), 0 if absent or stale. */
static int socket_in_use(const char *path)
{
	struct sockaddr_un sun;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path, strlen(path)) != 0)
		return 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	int r = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0;
	close(fd);
	return r;
}

/* owner_ids - "user[:group]" to ids; -1 if unknown. */
static int owner_ids(const char *spec, uid_t *uid, gid_t *gid)
{
	char user[256];
	const char *colon = strchr(spec, ':');
	size_t ul = colon ? (size_t)(colon - spec) : strlen(spec);
	if (str_copy(user, sizeof(user), spec, ul) != 0)
		return -1;
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (colon != NULL && colon[1] != '\0') {
		struct group *gr = getgrnam(colon + 1);
		if (gr == NULL)
			return -1;
		*gid = gr->gr_gid;
	}
	return 0;
}

/* open_socket - create the listening socket (engine.c); a unix socket's
 * path and identity are remembered in rt for the exit. */
static void open_socket(const conf *c, struct runtime *rt)
{
	const char *sock = conf_str(c, "milter.socket");
	const char *path = engine_unix_path(sock);
	char err[ERR_MAX];
	if (path != NULL && socket_in_use(path))
		fatal("%s: another process is listening on this socket", path);
	struct engine_limits lim = { (unsigned)conf_int(c, "milter.timeout"),
		(unsigned)conf_int(c, "milter.idle_timeout"), (unsigned)conf_int(c, "milter.max_connections") };
	rt->eng = engine_new(sock, &lim, callbacks_handler(), &rt->d, err, sizeof(err));
	if (rt->eng == NULL)
		fatal("%s", err);
	if (path == NULL)
		return;
	struct stat st;
	if (lstat(path, &st) == 0 && str_copy(rt->sockpath, sizeof(rt->sockpath), path, strlen(path)) == 0) {
		rt->sockdev = st.st_dev;
		rt->sockino = st.st_ino;
	}
	if (chmod(path, (mode_t)conf_int(c, "milter.socket_mode")) != 0)
		fatal("chmod %s: %s", path, strerror(errno));
	const char *owner = conf_str(c, "milter.socket_owner");
	if (owner[0] != '\0') {
		uid_t uid;
		gid_t gid;
		if (owner_ids(owner, &uid, &gid) != 0)
			fatal("milter.socket_owner \"%s\": unknown user or group", owner);
		if (chown(path, uid, gid) != 0)
			fatal("chown %s: %s", path, strerror(errno));
	}
}

/* remove_socket - unlink our unix socket at exit, but
 * only if the file is still the one we created; failure (directory not
 * writable after the privilege drop) is harmless: the next start removes it. */
static void remove_socket(const struct runtime *rt)
{
	struct stat st;
	if (rt->sockpath[0] == '\0' || lstat(rt->sockpath, &st) != 0)
		return;
	if (st.st_dev == rt->sockdev && st.st_ino == rt->sockino && S_ISSOCK(st.st_mode) &&
	    unlink(rt->sockpath) != 0)
		syslog(LOG_DEBUG, "cannot remove %s: %s", rt->sockpath, strerror(errno));
}

/* daemonize - fork into the background. The parent waits on a pipe for the
 * child's start-up result so that "trustmilter" exits non-zero when the
 * daemon could not start; returns the pipe's write end for the child. */
static int daemonize(void)
{
	int p[2];
	if (pipe(p) != 0)
		fatal("pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0)
		fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(p[1]);
		char ok = 0;
		ssize_t n;
		do
			n = read(p[0], &ok, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 && ok == 'y' ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		fatal("setsid: %s", strerror(errno));
	if (chdir("/") != 0)
		fatal("chdir /: %s", strerror(errno));
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return p[1];
}

/* safe_owner - uid may own what we write as root: root or the starting user. */
static int safe_owner(uid_t uid)
{
	return uid == 0 || uid == geteuid();
}

/* pidfile_dir - open the pid file's directory and check that nobody but
 * root (or the starting user) can change its entries: a pid file is written
 * as root before the privilege drop, and in a directory others can write to
 * they could plant a symbolic or hard link to any file root can write. The
 * file is then opened relative to this descriptor, so the directory that was
 * checked is the one written to. */
static int pidfile_dir(const char *path, const char **base)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	*base = slash ? slash + 1 : path;
	if (slash == path)
		str_copy(dir, sizeof(dir), "/", 1);
	else if (slash == NULL)
		str_copy(dir, sizeof(dir), ".", 1);
	else if (str_copy(dir, sizeof(dir), path, (size_t)(slash - path)) != 0)
		fatal("pid file %s: name too long", path);
	if (**base == '\0')
		fatal("pid file %s: not a file name", path);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;
	if (dfd < 0 || fstat(dfd, &st) != 0)
		fatal("pid file directory %s: %s", dir, strerror(errno));
	if (!safe_owner(st.st_uid) || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		fatal("pid file directory %s is writable by others than root: refusing to write "
		      "%s there (use a directory like /run/trustmilter, mode 0755 root)", dir, *base);
	return dfd;
}

/* write_pidfile - create and lock the pid file; a lock held by another
 * process means another daemon runs with this pid file. A symbolic link,
 * a hard link or anything but a regular file of ours is refused. */
static int write_pidfile(const char *path)
{
	const char *base;
	int dfd = pidfile_dir(path, &base);
	int fd = openat(dfd, base, O_RDWR | O_CREAT | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644);
	if (fd < 0)
		fatal("pid file %s: %s%s", path, strerror(errno),
		      errno == ELOOP ? " (a symbolic link: refused)" : "");
	close(dfd);
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || !safe_owner(st.st_uid))
		fatal("pid file %s: not a regular file of ours with one link: refused", path);
	if (flock(fd, LOCK_EX | LOCK_NB) != 0)
		fatal("pid file %s is locked: trustmilter is already running", path);
	char num[32];
	int len = snprintf(num, sizeof(num), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || write(fd, num, (size_t)len) != len)
		fatal("pid file %s: %s", path, strerror(errno));
	return fd;
}

/* drop_privileges - become milter.user (only possible, and only needed, as root). */
static void drop_privileges(const char *user)
{
	if (user[0] == '\0') {
		if (geteuid() == 0)   /* check_daemon_keys refuses this; never run on as root by accident */
			fatal("refusing to run as root: milter.user is empty");
		return;
	}
	struct passwd *pw = getpwnam(user);
	if (pw == NULL)
		fatal("milter.user \"%s\": no such user", user);
	if (pw->pw_uid == 0 && geteuid() == 0)
		syslog(LOG_WARNING, "running as root (milter.user = \"root\"): a flaw in the message "
		       "handling would give the sender root");
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid)
		return;
	if (geteuid() != 0)
		fatal("milter.user \"%s\": must start as root to change user", user);
	if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		fatal("cannot become %s: %s", user, strerror(errno));
	if (setuid(0) == 0)
		fatal("privilege drop to %s did not stick", user);
}

/* restart_only - warn when a reload changes a key that needs a restart. */
static void restart_only(const conf *old, const conf *nc)
{
	static const char *const keys[] = { "milter.socket", "milter.user", "milter.pidfile",
		"milter.socket_owner", "milter.syslog_facility", "milter.log_stderr", "audit.store",
		"metrics.listen" };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(conf_str(old, keys[i]), conf_str(nc, keys[i])) != 0)
			syslog(LOG_WARNING, "reload: %s changed; takes effect at restart", keys[i]);
	static const char *const ints[] = { "milter.timeout", "milter.idle_timeout",
		"milter.max_connections", "milter.socket_mode", "feedback.queue_size" };
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		if (conf_int(old, ints[i]) != conf_int(nc, ints[i]))
			syslog(LOG_WARNING, "reload: %s changed; takes effect at restart", ints[i]);
}

/* record_sink - every evaluated message's audit record: queued for the
 * store's writer thread (never blocks: a full queue drops and counts) and
 * counted for /metrics. */
static void record_sink(void *arg, const struct audit_record *r)
{
	struct runtime *rt = arg;
	if (rt->store)
		store_submit(rt->store, r);
	metrics_count(rt->metrics, r);
}

/* start_feedback - the feedback thread, when report mailboxes are
 * configured and the audit store is on (their tables are in it). */
static feedsink *start_feedback(const conf *c, int have_store)
{
	const char *const *l;
	if (conf_list(c, "feedback.arf_recipients", &l) + conf_list(c, "feedback.dmarc_recipients", &l) == 0)
		return NULL;
	if (!have_store) {
		syslog(LOG_WARNING, "feedback.*_recipients are set but audit.store is not: report "
		       "messages are not stored");
		return NULL;
	}
	char err[ERR_MAX];
	feedsink *f = feedsink_start(c, err, sizeof(err));
	if (f == NULL)
		fatal("feedback: %s", err);
	return f;
}

/* reload - SIGUSR1: a new environment replaces the old one, or, when the
 * file is bad, the old one stays and the log says why. */
static void reload(struct runtime *rt)
{
	char err[ERR_MAX] = "";
	tm_env *e = build_env(&rt->o, err, sizeof(err));
	if (e == NULL) {
		syslog(LOG_ERR, "reload failed, keeping the running configuration: %s", err);
		return;
	}
	tm_env_set_record_sink(e, record_sink, rt);
	tm_env *old = daemon_swap_env(&rt->d, e);
	if (old != NULL)
		restart_only(tm_env_conf(old), tm_env_conf(e));
	tm_env_unref(old);
	syslog(LOG_INFO, "reloaded configuration from %s", conf_path(tm_env_conf(e)));
}

/* handled_signals - the signals the signal thread waits for (and every
 * thread blocks): SIGUSR1 reload, SIGUSR2 internal exit, the rest stop. */
static void handled_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigaddset(set, SIGUSR2);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* signal_thread - the only receiver of the signals we handle. */
static void *signal_thread(void *arg)
{
	struct runtime *rt = arg;
	sigset_t set;
	handled_signals(&set);
	for (;;) {
		int sig;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGUSR1)
			reload(rt);
		else if (sig == SIGUSR2)
			return NULL;
		else
			engine_stop(rt->eng);
	}
}

/* block_signals - block in this thread (and so in all later threads) every
 * signal the signal thread waits for; ignore SIGPIPE (a vanished MTA shows
 * up as EPIPE on write). */
static void block_signals(void)
{
	sigset_t set;
	handled_signals(&set);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* parse_opts - getopt; exits on -V, -h and errors. */
static void parse_opts(int argc, char **argv, struct opts *o)
{
	int ch;
	o->conf_path = TM_SYSCONFDIR "/trustmilter.conf";
	while ((ch = getopt(argc, argv, "c:fns:Vh")) != -1) {
		switch (ch) {
		case 'c': o->conf_path = optarg; break;
		case 'f': o->foreground = 1; break;
		case 'n': o->test_only = 1; break;
		case 's': o->socket = optarg; break;
		case 'V': printf("trustmilter %s\n", TM_VERSION); exit(0);
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc) {
		usage(stderr);
		exit(2);
	}
}

/* log_setup - where log lines go once started: syslog, and in the
 * foreground standard error as milter.log_stderr says. Without a syslog
 * socket the per-message lines go to standard error directly. */
static void log_setup(struct runtime *rt, const conf *c, int facility)
{
	const char *mode = conf_str(c, "milter.log_stderr");
	int have_syslog = access(_PATH_LOG, W_OK) == 0;
	int copy = rt->o.foreground && (strcmp(mode, "yes") == 0 ||
		   (strcmp(mode, "auto") == 0 && (isatty(STDERR_FILENO) || !have_syslog)));
	closelog();
	openlog("trustmilter", LOG_PID | LOG_NDELAY | (copy ? LOG_PERROR : 0), facility);
	rt->d.log_direct = copy && !have_syslog;
	rt->d.log_pid = (long)getpid();
}

/* config_test - -n: load everything a start would load, report, exit. */
static int config_test(const struct opts *o)
{
	char err[ERR_MAX] = "";
	/* first every value error, each with file and line */
	conf *c = conf_load(o->conf_path, err, sizeof(err));
	if (c != NULL && (o->socket == NULL || conf_set(c, "milter.socket", o->socket, err, sizeof(err)) == 0)) {
		buf *errs = buf_new(1 << 20);
		size_t bad = errs ? check_values(c, errs) : 0;
		if (bad > 0)
			fprintf(stderr, "%s", buf_data(errs));
		buf_free(errs);
		conf_unref(c);
		if (bad > 0) {
			fprintf(stderr, "trustmilter: %zu configuration error%s\n", bad, bad > 1 ? "s" : "");
			return 1;
		}
	} else {
		conf_unref(c);
	}
	tm_env *e = build_env(o, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "trustmilter: %s\n", err);
		return 1;
	}
	printf("%s: configuration OK\n", conf_path(tm_env_conf(e)));
	tm_env_unref(e);
	return 0;
}

int main(int argc, char **argv)
{
	struct runtime rt;
	memset(&rt, 0, sizeof(rt));
	rt.pidfd = -1;
	parse_opts(argc, argv, &rt.o);
	if (rt.o.test_only)
		return config_test(&rt.o);

	char err[ERR_MAX] = "";
	conf *c = load_config(&rt.o, err, sizeof(err));
	if (c == NULL) {
		fprintf(stderr, "trustmilter: %s\n", err);
		return 1;
	}
	/* Start-up errors go to stderr as well until we are in the background. */
	int facility = facility_code(conf_str(c, "milter.syslog_facility"));
	openlog("trustmilter", LOG_PID | LOG_NDELAY | LOG_PERROR, facility);
	if (daemon_init(&rt.d) != 0)
		fatal("cannot initialise locks");
	open_socket(c, &rt);
	int ready = -1;
	if (!rt.o.foreground)
		ready = daemonize();
	log_setup(&rt, c, facility);
	if (conf_str(c, "milter.pidfile")[0] != '\0') {
		str_copy(rt.pidfile, sizeof(rt.pidfile), conf_str(c, "milter.pidfile"),
			 strlen(conf_str(c, "milter.pidfile")));
		rt.pidfd = write_pidfile(rt.pidfile);
	}
	drop_privileges(conf_str(c, "milter.user"));
	unsigned drain = (unsigned)conf_int(c, "milter.drain_seconds");
	conf_unref(c);

	block_signals();
	tm_env *e = build_env(&rt.o, err, sizeof(err));
	if (e == NULL)
		fatal("%s", err);
	/* statistics: opened after the privilege drop so the database belongs to
	 * the milter's user; a store that cannot be opened is fatal at start */
	rt.store = store_open_conf(tm_env_conf(e), NULL, tm_env_hostname(e), store_log, NULL, err, sizeof(err));
	if (rt.store == NULL && err[0])
		fatal("%s", err);
	rt.metrics = metrics_new();
	if (rt.metrics == NULL)
		fatal("out of memory");
	metrics_set_store(rt.metrics, rt.store);
	unsigned flush_ms = 1000u * (unsigned)conf_int(tm_env_conf(e), "audit.flush_seconds");
	const char *ml = conf_str(tm_env_conf(e), "metrics.listen");
	if (ml[0] && metrics_serve(rt.metrics, ml, err, sizeof(err)) != 0)
		fatal("%s", err);
	rt.d.feedback = start_feedback(tm_env_conf(e), rt.store != NULL);
	tm_env_set_record_sink(e, record_sink, &rt);
	daemon_swap_env(&rt.d, e);
	if (pthread_create(&rt.sigthread, NULL, signal_thread, &rt) != 0)
		fatal("cannot start the signal thread");
	syslog(LOG_INFO, "trustmilter %s starting, config %s, socket %s", TM_VERSION,
	       conf_path(tm_env_conf(e)), conf_str(tm_env_conf(e), "milter.socket"));
	if (ready >= 0) {
		(void)!write(ready, "y", 1);
		close(ready);
	}

	int r = engine_run(rt.eng);
	unsigned open_now, busy;
	engine_counts(rt.eng, &open_now, &busy);
	syslog(LOG_INFO, "stopping: %u connection(s) open, draining %u message(s) in flight "
	       "for up to %u s", open_now, busy, drain);
	unsigned left = engine_drain(rt.eng, drain);
	if (left > 0)
		syslog(LOG_WARNING, "%u message(s) still in flight after %u s; their connections "
		       "were closed, the MTA applies its milter_default_action", left, drain);
	pthread_kill(rt.sigthread, SIGUSR2);
	pthread_join(rt.sigthread, NULL);
	daemon_destroy(&rt.d);
	/* SIGTERM flushes the audit queue. A callback still running after the
	 * drain may yet submit: then flush only and leave the store to exit(). */
	struct store_stats ss;
	if (left == 0) {
		feedsink_stop(rt.d.feedback);
		store_close_stats(rt.store, &ss);
	} else {
		store_flush(rt.store, flush_ms);
		store_get_stats(rt.store, &ss);
	}
	if (rt.store)
		syslog(LOG_INFO, "audit store: %llu records written, %llu dropped",
		       (unsigned long long)ss.written, (unsigned long long)ss.dropped);
	metrics_free(rt.metrics);
	if (left == 0)
		engine_free(rt.eng);
	remove_socket(&rt);
	if (rt.pidfd >= 0) {
		/* After the privilege drop the directory may not be ours:
		 * then at least leave no stale pid behind. */
		if (unlink(rt.pidfile) != 0 && ftruncate(rt.pidfd, 0) != 0)
			syslog(LOG_DEBUG, "cannot remove pid file %s", rt.pidfile);
		close(rt.pidfd);
	}
	syslog(LOG_INFO, "stopped");
	closelog();
	return r == 0 ? 0 : 1;
}
