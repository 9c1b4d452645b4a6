/*
 * callbacks - the libmilter callbacks: convert each event's arguments and
 * hand them to the policy session (policy/session.h). No policy lives here;
 * the only decision taken is the message's direction, because it depends on
 * MTA facts (client network, SMTP AUTH, daemon name) the session cannot see
 * on its own.
 *
 * libmilter runs callbacks on a worker pool: one connection's callbacks may
 * run on different threads (never two at once), so everything per connection
 * lives in a struct conn reached through smfi_setpriv/smfi_getpriv.
 *
 * Replies: we negotiate "no reply" (SMFIP_NR_*) for every step before end of
 * message, since the policy decides only at end of message; the MTA then does
 * not wait for us between steps. A session error before that is remembered
 * and answered at end of message with policy.on_error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <libmilter/mfapi.h>
#include "daemon.h"
#include "cidr.h"
#include "buf.h"

#define LOG_LINE_MAX 8192      /* one log line per message; syslog truncates longer ones anyway */
#define QID_MAX 64             /* Postfix long queue ids are ~20 characters */

/* The one piece of process state the callbacks need. libmilter gives a
 * callback only its SMFICTX, and a connection's private pointer is NULL until
 * the first callback sets it, so the daemon state cannot be passed in: it is
 * set once by callbacks_init() before smfi_main() starts any thread and only
 * read afterwards. Everything mutable behind it is under daemon->lock. */
static struct daemon *the_daemon;

/* DAEMON_BUSY_SCOPE - count this callback as running until it returns (the
 * cleanup attribute runs after the return value is computed). */
#define DAEMON_BUSY_SCOPE \
	struct daemon *busy_ __attribute__((cleanup(daemon_busy_leave), unused)) = \
		daemon_busy_enter(the_daemon)

/* Steps for which we never answer (the MTA goes on without waiting).
 * DATA is the exception, on purpose: we answer it (cb_data) although we
 * need nothing from it. Postfix's smtpd buffers the no-reply commands
 * (CONNECT..RCPT) and writes them when it hands the milter connection to
 * the cleanup server at DATA; cleanup then writes the header and body. Over
 * TCP, Nagle holds cleanup's write until the smtpd's write is ACKed, and we
 * (having just answered option negotiation) delay that ACK by up to 40 ms:
 * one stall per message. Our reply to DATA carries the ACK, so cleanup's
 * write leaves at once; on a unix socket it costs one short round trip. */
#define WANT_NR (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
		 SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
/* Steps we do not need at all, and the leading space of header values. */
#define WANT_PROTO (WANT_NR | SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC)
#define NEED_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS)
#define WANT_ACTIONS (NEED_ACTIONS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST)

struct conn {
	tm_env *env;               /* reference held for the connection's lifetime */
	session *s;                /* NULL if it could not be created */
	unsigned long pflags;      /* negotiated protocol flags */
	int failed;                /* the current message cannot be evaluated */
	int broken;                /* connect/helo failed: no message can be */
	char ip[INET6_ADDRSTRLEN];
	char qid[QID_MAX];
};

/* conn_get - this connection's state, created on first use (negotiate, or
 * connect for MTAs that skip negotiation). NULL only when out of memory. */
static struct conn *conn_get(SMFICTX *ctx)
{
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL)
		return c;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->env = daemon_env_acquire(the_daemon);
	c->s = session_new(c->env);
	if (c->s == NULL)
		c->failed = c->broken = 1;
	snprintf(c->qid, sizeof(c->qid), "NOQUEUE");
	daemon_conn_opened(the_daemon);
	smfi_setpriv(ctx, c);
	return c;
}

/* next - the answer for a step before end of message. */
static sfsistat next(const struct conn *c, unsigned long nr_bit)
{
	return c != NULL && (c->pflags & nr_bit) ? SMFIS_NOREPLY : SMFIS_CONTINUE;
}

/* failed - remember a session error (logged once per message). */
static void failed(struct conn *c, const char *step)
{
	if (!c->failed)
		syslog(LOG_ERR, "%s: session error at %s, message will get on_error", c->qid, step);
	c->failed = 1;
}

/* pass_macro - give an MTA macro to the session; the name without braces. */
static void pass_macro(SMFICTX *ctx, struct conn *c, const char *macro, const char *name)
{
	const char *v = smfi_getsymval(ctx, (char *)macro);
	if (v != NULL && c->s != NULL)
		session_set_macro(c->s, name, v);
}

/* cb_negotiate - pick the protocol steps and actions we need; request macros. */
static sfsistat cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
			     unsigned long f2, unsigned long f3, unsigned long *pf0,
			     unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	DAEMON_BUSY_SCOPE;
	(void)f2; (void)f3;
	if ((f0 & NEED_ACTIONS) != NEED_ACTIONS) {
		syslog(LOG_ERR, "MTA does not allow header changes (actions 0x%lx): refusing", f0);
		return SMFIS_REJECT;
	}
	struct conn *c = conn_get(ctx);
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	*pf0 = f0 & WANT_ACTIONS;
	*pf1 = f1 & WANT_PROTO;
	*pf2 = *pf3 = 0;
	c->pflags = *pf1;
	if (f0 & SMFIF_SETSYMLIST) {
		/* Postfix's defaults send none of these at these steps except i. */
		smfi_setsymlist(ctx, SMFIM_CONNECT, "{client_addr} {daemon_name} j");
		smfi_setsymlist(ctx, SMFIM_HELO, "{tls_version}");
		smfi_setsymlist(ctx, SMFIM_ENVFROM, "i {auth_authen}");
		smfi_setsymlist(ctx, SMFIM_EOM, "i");
	}
	return SMFIS_CONTINUE;
}

/* addr_text - the client's IP as text from the connect argument; "" if none. */
static void addr_text(const struct sockaddr *sa, char *out, size_t outsz)
{
	out[0] = '\0';
	if (sa == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
			  (socklen_t)outsz);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
			  (socklen_t)outsz);
}

/* cb_connect - the client address comes from the argument: neither stock
 * Sendmail nor Postfix's defaults send {client_addr}. */
static sfsistat cb_connect(SMFICTX *ctx, char *hostname, struct sockaddr *hostaddr)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = conn_get(ctx);
	if (c == NULL)
		return SMFIS_TEMPFAIL;
	addr_text(hostaddr, c->ip, sizeof(c->ip));
	if (c->ip[0] == '\0') {
		const char *m = smfi_getsymval(ctx, "{client_addr}");
		if (m != NULL)
			str_copy(c->ip, sizeof(c->ip), m, strlen(m));
	}
	if (c->s == NULL)
		return next(c, SMFIP_NR_CONN);
	pass_macro(ctx, c, "{daemon_name}", "daemon_name");
	if (session_connect(c->s, hostname, c->ip[0] ? c->ip : NULL) != 0) {
		failed(c, "connect");
		c->broken = 1;
	}
	return next(c, SMFIP_NR_CONN);
}

/* cb_helo - the name from the argument: Sendmail's macro s is still empty here. */
static sfsistat cb_helo(SMFICTX *ctx, char *helohost)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c == NULL || c->s == NULL)
		return next(c, SMFIP_NR_HELO);
	pass_macro(ctx, c, "{tls_version}", "tls_version");
	if (session_helo(c->s, helohost ? helohost : "") != 0) {
		failed(c, "helo");
		c->broken = 1;
	}
	return next(c, SMFIP_NR_HELO);
}

/* decide_direction - outbound when the client is internal, authenticated, or
 * came in through a daemon listed in milter.outbound_daemons. */
static enum direction decide_direction(const conf *cf, const char *ip, const char *auth,
				       const char *daemon, char *why, size_t whysz)
{
	const char *const *list;
	size_t n = conf_list(cf, "milter.internal_networks", &list);
	if (ip[0] != '\0' && cidr_match_list(list, n, ip)) {
		snprintf(why, whysz, "internal_network");
		return DIR_OUTBOUND;
	}
	if (auth != NULL && auth[0] != '\0') {
		snprintf(why, whysz, "smtp_auth");
		return DIR_OUTBOUND;
	}
	n = conf_list(cf, "milter.outbound_daemons", &list);
	for (size_t i = 0; daemon != NULL && i < n; i++) {
		if (strcmp(list[i], daemon) == 0) {
			snprintf(why, whysz, "daemon_name");
			return DIR_OUTBOUND;
		}
	}
	snprintf(why, whysz, "external");
	return DIR_INBOUND;
}

/* cb_envfrom - a new message: path, queue id, direction. */
static sfsistat cb_envfrom(SMFICTX *ctx, char **argv)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c == NULL)
		return next(c, SMFIP_NR_MAIL);
	c->failed = c->broken;
	const char *qid = smfi_getsymval(ctx, "i");
	snprintf(c->qid, sizeof(c->qid), "%s", qid && qid[0] ? qid : "NOQUEUE");
	if (c->s == NULL)
		return next(c, SMFIP_NR_MAIL);
	if (session_mail(c->s, argv && argv[0] ? argv[0] : "<>") != 0)
		failed(c, "mail");
	const char *auth = smfi_getsymval(ctx, "{auth_authen}");
	pass_macro(ctx, c, "i", "i");
	pass_macro(ctx, c, "{auth_authen}", "auth_authen");
	char why[64];
	enum direction d = decide_direction(tm_env_conf(c->env), c->ip, auth,
					    smfi_getsymval(ctx, "{daemon_name}"), why, sizeof(why));
	session_set_direction(c->s, d, why);
	return next(c, SMFIP_NR_MAIL);
}

/* cb_envrcpt - one recipient. */
static sfsistat cb_envrcpt(SMFICTX *ctx, char **argv)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL && c->s != NULL && !c->failed &&
	    session_rcpt(c->s, argv && argv[0] ? argv[0] : "") != 0)
		failed(c, "rcpt");
	return next(c, SMFIP_NR_RCPT);
}

/* cb_data - DATA: answered only to acknowledge what the MTA has sent so far
 * (see WANT_NR). */
static sfsistat cb_data(SMFICTX *ctx)
{
	(void)ctx;
	return SMFIS_CONTINUE;
}

/* cb_header - one field. With SMFIP_HDR_LEADSPC the value is exactly as
 * received; without it the MTA dropped one leading space, which we restore
 * so that DKIM's "simple" header canonicalization sees the original bytes. */
static sfsistat cb_header(SMFICTX *ctx, char *name, char *value)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c == NULL || c->s == NULL || c->failed || name == NULL)
		return next(c, SMFIP_NR_HDR);
	const char *v = value ? value : "";
	size_t vlen = strlen(v);
	int r;
	if (!(c->pflags & SMFIP_HDR_LEADSPC) && vlen > 0) {
		char *sp = malloc(vlen + 2);
		if (sp == NULL) {
			failed(c, "header");
			return next(c, SMFIP_NR_HDR);
		}
		sp[0] = ' ';
		memcpy(sp + 1, v, vlen + 1);
		r = session_header(c->s, name, strlen(name), sp, vlen + 1);
		free(sp);
	} else {
		r = session_header(c->s, name, strlen(name), v, vlen);
	}
	if (r != 0)
		failed(c, "header");
	return next(c, SMFIP_NR_HDR);
}

/* cb_eoh - end of header. */
static sfsistat cb_eoh(SMFICTX *ctx)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL && c->s != NULL && !c->failed && session_eoh(c->s) != 0)
		failed(c, "eoh");
	return next(c, SMFIP_NR_EOH);
}

/* cb_body - one body chunk, passed on as given (CRLF wire form). */
static sfsistat cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL && c->s != NULL && !c->failed && session_body(c->s, p, n) != 0)
		failed(c, "body");
	return next(c, SMFIP_NR_BODY);
}

/* log_message - the session's one line per message, to syslog. */
static void log_message(const struct conn *c)
{
	buf *b = buf_new(LOG_LINE_MAX);
	if (b != NULL && session_log_line(c->s, b) == 0)
		syslog(LOG_INFO, "%s", buf_data(b));
	buf_free(b);
}

/* cb_eom - decide and carry out the verdict. The queue id is read again:
 * with some MTA setups it is not yet known at MAIL FROM. */
static sfsistat cb_eom(SMFICTX *ctx)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c == NULL)
		return reply_on_error(ctx, NULL, "NOQUEUE", "no connection state");
	const char *qid = smfi_getsymval(ctx, "i");
	if (qid != NULL && qid[0] != '\0')
		snprintf(c->qid, sizeof(c->qid), "%s", qid);
	if (c->s == NULL || c->failed) {
		sfsistat r = reply_on_error(ctx, tm_env_conf(c->env), c->qid, "session error");
		if (c->s != NULL)
			session_abort(c->s);
		c->failed = c->broken;
		return r;
	}
	pass_macro(ctx, c, "i", "i");
	const struct verdict *v = session_eom(c->s);
	log_message(c);
	return reply_apply(ctx, v, (c->pflags & SMFIP_HDR_LEADSPC) != 0, c->qid);
}

/* cb_abort - the MTA dropped the message; the connection stays. */
static sfsistat cb_abort(SMFICTX *ctx)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c != NULL && c->s != NULL) {
		session_abort(c->s);
		c->failed = c->broken;
	}
	return SMFIS_CONTINUE;
}

/* cb_close - end of the connection: free the session, drop the env reference. */
static sfsistat cb_close(SMFICTX *ctx)
{
	DAEMON_BUSY_SCOPE;
	struct conn *c = smfi_getpriv(ctx);
	if (c == NULL)
		return SMFIS_CONTINUE;
	smfi_setpriv(ctx, NULL);
	session_free(c->s);
	tm_env_unref(c->env);
	free(c);
	daemon_conn_closed(the_daemon);
	return SMFIS_CONTINUE;
}

/* callbacks_init - see daemon.h. */
struct smfiDesc callbacks_init(struct daemon *d)
{
	the_daemon = d;
	struct smfiDesc desc = {
		.xxfi_name = "trustmilter",
		.xxfi_version = SMFI_VERSION,
		.xxfi_flags = WANT_ACTIONS,
		.xxfi_connect = cb_connect,
		.xxfi_helo = cb_helo,
		.xxfi_envfrom = cb_envfrom,
		.xxfi_envrcpt = cb_envrcpt,
		.xxfi_header = cb_header,
		.xxfi_eoh = cb_eoh,
		.xxfi_body = cb_body,
		.xxfi_eom = cb_eom,
		.xxfi_abort = cb_abort,
		.xxfi_close = cb_close,
		.xxfi_unknown = NULL,
		.xxfi_data = cb_data,
		.xxfi_negotiate = cb_negotiate,
	};
	return desc;
}
