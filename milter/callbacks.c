/*
 * callbacks - the milter events: convert each event's arguments and hand
 * them to the policy session (policy/session.h). No policy lives here; the
 * only decision taken is the message's direction, because it depends on MTA
 * facts (client network, SMTP AUTH, daemon name) the session cannot see on
 * its own.
 *
 * The events come from mproto.c on the connection's own thread (engine.c),
 * in protocol order; everything per connection lives in a struct conn.
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
#include "daemon.h"
#include "feedsink.h"
#include "cidr.h"
#include "policy.h"
#include "buf.h"

#define LOG_LINE_MAX 8192      /* one log line per message; syslog truncates longer ones anyway */
#define QID_MAX 64             /* Postfix long queue ids are ~20 characters */

/* Steps for which we never answer (the MTA goes on without waiting): all
 * before end of message. Over TCP this relies on engine.c acknowledging
 * every read at once (TCP_QUICKACK): Postfix does not set TCP_NODELAY, so
 * without a prompt ACK its next small write would wait for our delayed ACK
 * (Nagle), about 40 ms per message. */
#define WANT_NR (SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT | \
		 SMFIP_NR_DATA | SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY)
/* Steps we do not need at all (DATA and unknown commands: one command less
 * for the MTA to write), and the leading space of header values. */
#define WANT_PROTO (WANT_NR | SMFIP_NODATA | SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC)
#define NEED_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGHDRS)
#define WANT_ACTIONS (NEED_ACTIONS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST)

struct conn {
	struct daemon *d;
	mp_conn *mc;               /* the protocol state: macros, modifications */
	tm_env *env;               /* reference held for the connection's lifetime */
	session *s;                /* NULL if it could not be created */
	int failed;                /* the current message cannot be evaluated */
	int broken;                /* connect/helo failed: no message can be */
	char ip[64];
	char qid[QID_MAX];
};

/* cb_open - a connection starts: its state, with a reference to the
 * current environment. NULL only when out of memory. */
static void *cb_open(void *arg, mp_conn *mc)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->d = arg;
	c->mc = mc;
	c->env = daemon_env_acquire(c->d);
	c->s = session_new(c->env);
	if (c->s == NULL)
		c->failed = c->broken = 1;
	snprintf(c->qid, sizeof(c->qid), "NOQUEUE");
	return c;
}

/* failed - remember a session error (logged once per message). */
static void failed(struct conn *c, const char *step)
{
	if (!c->failed)
		syslog(LOG_ERR, "%s: session error at %s, message will get on_error", c->qid, step);
	c->failed = 1;
}

/* pass_macro - give an MTA macro to the session; the name without braces. */
static void pass_macro(struct conn *c, const char *macro, const char *name)
{
	const char *v = mp_macro(c->mc, macro);
	if (v != NULL && c->s != NULL)
		session_set_macro(c->s, name, v);
}

/* cb_refuse - the MTA cannot do what we need. */
static void cb_refuse(void *priv, const char *why)
{
	(void)priv;
	syslog(LOG_ERR, "refusing the MTA's milter connection: %s", why);
}

/* cb_connect - the client address from the argument, else {client_addr}. */
static enum mp_action cb_connect(void *priv, const char *hostname, const char *ip)
{
	struct conn *c = priv;
	str_copy(c->ip, sizeof(c->ip), ip, strlen(ip));
	if (c->ip[0] == '\0') {
		const char *m = mp_macro(c->mc, "{client_addr}");
		if (m != NULL)
			str_copy(c->ip, sizeof(c->ip), m, strlen(m));
	}
	if (c->s == NULL)
		return MP_CONTINUE;
	pass_macro(c, "{daemon_name}", "daemon_name");
	if (session_connect(c->s, hostname, c->ip[0] ? c->ip : NULL) != 0) {
		failed(c, "connect");
		c->broken = 1;
	}
	return MP_CONTINUE;
}

/* cb_helo - the name from the argument: Sendmail's macro s is still empty here. */
static enum mp_action cb_helo(void *priv, const char *helohost)
{
	struct conn *c = priv;
	if (c->s == NULL)
		return MP_CONTINUE;
	pass_macro(c, "{tls_version}", "tls_version");
	if (session_helo(c->s, helohost) != 0) {
		failed(c, "helo");
		c->broken = 1;
	}
	return MP_CONTINUE;
}

/* decide_direction - outbound when the client is internal, authenticated, or
 * came in through a daemon listed in milter.outbound_daemons. */
static enum direction decide_direction(const struct policy *pol, const char *ip, const char *auth,
				       const char *daemon, char *why, size_t whysz)
{
	if (ip[0] != '\0' && policy_net_match(pol->internal_networks, pol->ninternal_networks, ip)) {
		snprintf(why, whysz, "internal_network");
		return DIR_OUTBOUND;
	}
	if (auth != NULL && auth[0] != '\0') {
		snprintf(why, whysz, "smtp_auth");
		return DIR_OUTBOUND;
	}
	for (size_t i = 0; daemon != NULL && i < pol->noutbound_daemons; i++) {
		if (strcmp(pol->outbound_daemons[i], daemon) == 0) {
			snprintf(why, whysz, "daemon_name");
			return DIR_OUTBOUND;
		}
	}
	snprintf(why, whysz, "external");
	return DIR_INBOUND;
}

/* cb_mail - a new message: path, queue id, direction. */
static enum mp_action cb_mail(void *priv, const char *path)
{
	struct conn *c = priv;
	c->failed = c->broken;
	const char *qid = mp_macro(c->mc, "i");
	snprintf(c->qid, sizeof(c->qid), "%s", qid && qid[0] ? qid : "NOQUEUE");
	if (c->s == NULL)
		return MP_CONTINUE;
	if (session_mail(c->s, path) != 0)
		failed(c, "mail");
	const char *auth = mp_macro(c->mc, "{auth_authen}");
	pass_macro(c, "i", "i");
	if (auth != NULL)
		session_set_macro(c->s, "auth_authen", auth);
	char why[64];
	enum direction d = decide_direction(tm_env_policy(c->env), c->ip, auth,
					    mp_macro(c->mc, "{daemon_name}"), why, sizeof(why));
	session_set_direction(c->s, d, why);
	return MP_CONTINUE;
}

/* cb_rcpt - one recipient. */
static enum mp_action cb_rcpt(void *priv, const char *path)
{
	struct conn *c = priv;
	if (c->s != NULL && !c->failed && session_rcpt(c->s, path) != 0)
		failed(c, "rcpt");
	return MP_CONTINUE;
}

/* cb_header - one field. With SMFIP_HDR_LEADSPC the value is exactly as
 * received; without it the MTA dropped one leading space, which we restore
 * so that DKIM's "simple" header canonicalization sees the original bytes. */
static enum mp_action cb_header(void *priv, const char *name, const char *v, size_t vlen)
{
	struct conn *c = priv;
	if (c->s == NULL || c->failed)
		return MP_CONTINUE;
	int r;
	if (!(mp_pflags(c->mc) & SMFIP_HDR_LEADSPC) && vlen > 0) {
		char *sp = malloc(vlen + 2);
		if (sp == NULL) {
			failed(c, "header");
			return MP_CONTINUE;
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
	return MP_CONTINUE;
}

/* cb_eoh - end of header. */
static enum mp_action cb_eoh(void *priv)
{
	struct conn *c = priv;
	if (c->s != NULL && !c->failed && session_eoh(c->s) != 0)
		failed(c, "eoh");
	return MP_CONTINUE;
}

/* cb_body - one body chunk, passed on as given (CRLF wire form). */
static enum mp_action cb_body(void *priv, const unsigned char *p, size_t n)
{
	struct conn *c = priv;
	if (c->s != NULL && !c->failed && session_body(c->s, p, n) != 0)
		failed(c, "body");
	return MP_CONTINUE;
}

/* log_message - the session's one line per message (daemon_log_line). */
static void log_message(const struct conn *c)
{
	buf *b = buf_new(LOG_LINE_MAX);
	if (b != NULL && session_log_line(c->s, b) == 0)
		daemon_log_line(c->d, buf_data(b), buf_len(b));
	buf_free(b);
}

/* cb_eom - decide and carry out the verdict. The queue id is read again:
 * with some MTA setups it is not yet known at MAIL FROM. */
static enum mp_action cb_eom(void *priv)
{
	struct conn *c = priv;
	const char *qid = mp_macro(c->mc, "i");
	if (qid != NULL && qid[0] != '\0')
		snprintf(c->qid, sizeof(c->qid), "%s", qid);
	if (c->s == NULL || c->failed) {
		enum mp_action r = reply_on_error(c->mc, tm_env_policy(c->env), c->qid, "session error");
		if (c->s != NULL)
			session_abort(c->s);
		c->failed = c->broken;
		return r;
	}
	pass_macro(c, "i", "i");
	const struct verdict *v = session_eom(c->s);
	log_message(c);
	size_t fblen;
	const char *fb = session_feedback(c->s, &fblen);
	if (fb != NULL)
		feedsink_submit(c->d->feedback, fb, fblen, c->qid);
	return reply_apply(c->mc, v, (mp_pflags(c->mc) & SMFIP_HDR_LEADSPC) != 0, c->qid);
}

/* cb_abort - the MTA dropped the message; the connection stays. */
static void cb_abort(void *priv)
{
	struct conn *c = priv;
	if (c->s != NULL) {
		session_abort(c->s);
		c->failed = c->broken;
	}
}

/* cb_close - end of the connection: free the session, drop the env reference. */
static void cb_close(void *priv)
{
	struct conn *c = priv;
	session_free(c->s);
	tm_env_unref(c->env);
	free(c);
}

static const struct mp_handler handler = {
	.need_actions = NEED_ACTIONS,
	.want_actions = WANT_ACTIONS,
	.want_proto = WANT_PROTO,
	/* Postfix's defaults send none of these at these steps except i. */
	.symlist = {
		[SMFIM_CONNECT] = "{client_addr} {daemon_name} j",
		[SMFIM_HELO] = "{tls_version}",
		[SMFIM_ENVFROM] = "i {auth_authen}",
		[SMFIM_EOM] = "i",
	},
	.open = cb_open,
	.close = cb_close,
	.refuse = cb_refuse,
	.connect = cb_connect,
	.helo = cb_helo,
	.mail = cb_mail,
	.rcpt = cb_rcpt,
	.header = cb_header,
	.eoh = cb_eoh,
	.body = cb_body,
	.eom = cb_eom,
	.abort = cb_abort,
};

/* callbacks_handler - see daemon.h. */
const struct mp_handler *callbacks_handler(void)
{
	return &handler;
}
