/*
 * nullmilter - a milter that checks nothing: trustmilter's engine and
 * protocol layer (milter/engine.c, milter/mproto.c) with the same
 * negotiation as the daemon (headers and body with no replies, DATA and
 * end of message answered) and, at end of message, the same two header
 * insertions, but no policy work at all. tests/bench/compare runs Postfix
 * with it to measure what the milter protocol alone costs Postfix: the
 * ceiling any milter that reads the whole message can reach.
 *
 * Usage: nullmilter SOCKET   (unix:/path or inet:PORT@HOST); SIGTERM stops.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include "../../milter/engine.h"

#define AR_VALUE " mx.null.example; none"
#define X_VALUE " v=1; null"

static void *n_open(void *arg, mp_conn *c) { (void)arg; return c; }
static void n_close(void *p) { (void)p; }
static void n_refuse(void *p, const char *why) { (void)p; fprintf(stderr, "nullmilter: %s\n", why); }
static enum mp_action n_connect(void *p, const char *h, const char *ip) { (void)p; (void)h; (void)ip; return MP_CONTINUE; }
static enum mp_action n_str(void *p, const char *s) { (void)p; (void)s; return MP_CONTINUE; }
static enum mp_action n_header(void *p, const char *n, const char *v, size_t l) { (void)p; (void)n; (void)v; (void)l; return MP_CONTINUE; }
static enum mp_action n_eoh(void *p) { (void)p; return MP_CONTINUE; }
static enum mp_action n_body(void *p, const unsigned char *d, size_t n) { (void)p; (void)d; (void)n; return MP_CONTINUE; }
static enum mp_action n_eom(void *p)
{
	mp_insheader(p, 0, "X-Null", X_VALUE);
	mp_insheader(p, 0, "Authentication-Results", AR_VALUE);
	return MP_CONTINUE;
}
static void n_abort(void *p) { (void)p; }

static const struct mp_handler H = {
	.need_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
	.want_proto = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | SMFIP_NR_DATA |
		      SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NODATA | SMFIP_NOUNKNOWN |
		      SMFIP_HDR_LEADSPC,
	.symlist = { [SMFIM_CONNECT] = "{client_addr} {daemon_name} j", [SMFIM_ENVFROM] = "i {auth_authen}",
		     [SMFIM_EOM] = "i" },
	.open = n_open, .close = n_close, .refuse = n_refuse, .connect = n_connect, .helo = n_str,
	.mail = n_str, .rcpt = n_str, .header = n_header, .eoh = n_eoh, .body = n_body,
	.eom = n_eom, .abort = n_abort,
};

static void *sig_thread(void *arg)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	int sig;
	sigwait(&set, &sig);
	engine_stop(arg);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: nullmilter SOCKET\n");
		return 2;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	char err[512];
	struct engine_limits lim = { .timeout = 60, .idle_timeout = 360, .max_conns = 10000 };
	engine *e = engine_new(argv[1], &lim, &H, NULL, err, sizeof(err));
	if (e == NULL) {
		fprintf(stderr, "nullmilter: %s\n", err);
		return 1;
	}
	if (strncmp(argv[1], "unix:", 5) == 0)
		chmod(argv[1] + 5, 0666);     /* Postfix connects as its own user */
	pthread_t t;
	pthread_create(&t, NULL, sig_thread, e);
	engine_run(e);
	engine_drain(e, 5);
	return 0;
}
