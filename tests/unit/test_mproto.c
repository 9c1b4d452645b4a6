/*
 * test_mproto - the milter protocol layer (milter/mproto.c) byte for byte:
 * negotiation with and without the MTA's "no reply" support, macros per
 * stage, the event order a handler sees, replies and modifications at end
 * of message, out-of-order commands, QUIT_NC, caps and malformed packets,
 * and the deadline of an incomplete command against the idle limit.
 * The MTA side is written here by hand from the protocol definition
 * (libmilter's mfdef.h), independently of milterload and miltertest, which
 * the integration tests use.
 */
#define _GNU_SOURCE 1   /* memmem */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include "t.h"
#include "../../milter/mproto.h"

/* ---- a recording handler ---- */

struct rec {
	char log[4096];              /* events, one letter and argument each */
	enum mp_action at_eom;
	int opens, closes, refused;
	mp_conn *c;
	const char *macro_at_mail;   /* value of "i" seen at MAIL */
	const char *auth_at_mail;
};

static void logf_(struct rec *r, const char *s)
{
	size_t n = strlen(r->log);
	snprintf(r->log + n, sizeof(r->log) - n, "%s;", s);
}

static void *h_open(void *arg, mp_conn *c) { struct rec *r = arg; r->opens++; r->c = c; return r; }
static void h_close(void *p) { ((struct rec *)p)->closes++; }
static void h_refuse(void *p, const char *why) { (void)why; ((struct rec *)p)->refused++; }
static enum mp_action h_connect(void *p, const char *host, const char *ip)
{
	char b[300];
	snprintf(b, sizeof(b), "C %s %s", host, ip);
	logf_(p, b);
	return MP_CONTINUE;
}
static enum mp_action h_helo(void *p, const char *n) { char b[300]; snprintf(b, sizeof(b), "H %s", n); logf_(p, b); return MP_CONTINUE; }
static enum mp_action h_mail(void *p, const char *a)
{
	struct rec *r = p;
	char b[300];
	snprintf(b, sizeof(b), "M %s", a);
	logf_(r, b);
	r->macro_at_mail = mp_macro(r->c, "i");
	r->auth_at_mail = mp_macro(r->c, "{auth_authen}");
	return MP_CONTINUE;
}
static enum mp_action h_rcpt(void *p, const char *a) { char b[300]; snprintf(b, sizeof(b), "R %s", a); logf_(p, b); return MP_CONTINUE; }
static enum mp_action h_header(void *p, const char *n, const char *v, size_t vl)
{
	char b[300];
	snprintf(b, sizeof(b), "L %s=%.20s/%zu", n, v, vl);
	logf_(p, b);
	return MP_CONTINUE;
}
static enum mp_action h_eoh(void *p) { logf_(p, "N"); return MP_CONTINUE; }
static enum mp_action h_body(void *p, const unsigned char *d, size_t n)
{
	char b[64];
	snprintf(b, sizeof(b), "B %zu", n);
	(void)d;
	logf_(p, b);
	return MP_CONTINUE;
}
static enum mp_action h_eom(void *p)
{
	struct rec *r = p;
	logf_(r, "E");
	mp_chgheader(r->c, "Authentication-Results", 2, NULL);
	mp_insheader(r->c, 0, "X-Test", " yes");
	if (r->at_eom == MP_REJECT)
		mp_setreply(r->c, "550", "5.7.1", "no thanks");
	return r->at_eom;
}
static void h_abort(void *p) { logf_(p, "A"); }

static const struct mp_handler H = {
	.need_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST,
	.want_proto = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
		      SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC,
	.symlist = { [SMFIM_CONNECT] = "{client_addr} j", [SMFIM_EOM] = "i" },
	.open = h_open, .close = h_close, .refuse = h_refuse, .connect = h_connect,
	.helo = h_helo, .mail = h_mail, .rcpt = h_rcpt, .header = h_header, .eoh = h_eoh,
	.body = h_body, .eom = h_eom, .abort = h_abort,
};

/* ---- building MTA packets ---- */

struct pk { unsigned char b[200000]; size_t n; };

static void put(struct pk *p, char cmd, const void *d, size_t n)
{
	uint32_t l = htonl((uint32_t)(n + 1));
	memcpy(p->b + p->n, &l, 4);
	p->b[p->n + 4] = (unsigned char)cmd;
	if (n)
		memcpy(p->b + p->n + 5, d, n);
	p->n += 5 + n;
}

static void optneg(struct pk *p, uint32_t ver, uint32_t act, uint32_t proto)
{
	uint32_t v[3] = { htonl(ver), htonl(act), htonl(proto) };
	put(p, SMFIC_OPTNEG, v, sizeof(v));
}

/* the reply packets as "cmd" letters, one per packet */
static void reply_letters(mp_conn *c, char *out, size_t outsz)
{
	size_t len, o = 0;
	const unsigned char *p = mp_output(c, &len);
	size_t off = 0;
	while (off + 5 <= len && o + 1 < outsz) {
		uint32_t l;
		memcpy(&l, p + off, 4);
		out[o++] = (char)p[off + 4];
		off += 4 + ntohl(l);
	}
	out[o] = '\0';
	mp_output_done(c, len);
}

/* a whole Postfix-like message after negotiation */
static void message(struct pk *p)
{
	put(p, SMFIC_MACRO, "Cj\0mx.example\0{client_addr}\0192.0.2.1", 37);
	put(p, SMFIC_CONNECT, "client.example\0" "4\x00\x19" "192.0.2.1", 28);
	put(p, SMFIC_HELO, "helo.example", 13);
	put(p, SMFIC_MACRO, "Mi\0Q1\0{auth_authen}\0alice", 26);
	put(p, SMFIC_MAIL, "<a@example.com>\0SIZE=10", 24);
	put(p, SMFIC_RCPT, "<b@example.net>", 16);
	put(p, SMFIC_DATA, NULL, 0);
	put(p, SMFIC_HEADER, "From\0 a@example.com", 20);
	put(p, SMFIC_HEADER, "Subject\0 hi", 12);
	put(p, SMFIC_EOH, NULL, 0);
	put(p, SMFIC_BODY, "hello\r\n", 7);
	put(p, SMFIC_MACRO, "Ei\0Q2", 6);
	put(p, SMFIC_BODYEOB, NULL, 0);
}

static void test_postfix_flow(void)
{
	struct rec r = { .at_eom = MP_CONTINUE };
	struct pk p = { .n = 0 };
	mp_conn *c = mp_new(&H, &r);
	optneg(&p, 6, 0x1ff, 0x1fffff);
	T_INT(mp_feed(c, p.b, p.n), 0, "negotiation accepted");
	size_t len;
	const unsigned char *o = mp_output(c, &len);
	uint32_t v[3];
	memcpy(v, o + 5, 12);
	T_INT(o[4], SMFIC_OPTNEG, "negotiation answered with O");
	T_INT(ntohl(v[0]), 6, "version 6");
	T_INT(ntohl(v[1]), SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_SETSYMLIST, "actions: what we want of what is offered");
	T_INT(ntohl(v[2]), H.want_proto, "protocol flags: what we want of what is offered");
	T_OK(len > 17 && memmem(o, len, "{client_addr} j", 16) != NULL, "macro list for the connect stage sent");
	mp_output_done(c, len);

	p.n = 0;
	message(&p);
	/* one byte at a time: framing must not depend on read boundaries */
	int rc = 0;
	for (size_t i = 0; i < p.n && rc == 0; i++)
		rc = mp_feed(c, p.b + i, 1);
	T_INT(rc, 0, "message fed byte by byte");
	T_STR(r.log, "C client.example 192.0.2.1;H helo.example;M <a@example.com>;R <b@example.net>;"
		     "L From= a@example.com/14;L Subject= hi/3;N;B 7;E;", "events in order with arguments");
	T_STR(r.macro_at_mail, "Q1", "macro i at MAIL");
	T_STR(r.auth_at_mail, "alice", "macro {auth_authen} with braces");
	char letters[32];
	reply_letters(c, letters, sizeof(letters));
	T_STR(letters, "cmic", "replies: DATA only, then change, insert and continue at EOM");
	T_OK(!mp_in_message(c), "message over after EOM");

	/* a second message on the same connection: EOM macro i replaced */
	p.n = 0;
	put(&p, SMFIC_MACRO, "Mi\0Q3", 6);
	put(&p, SMFIC_MAIL, "<c@example.com>", 16);
	T_INT(mp_feed(c, p.b, p.n), 0, "second MAIL");
	T_STR(mp_macro(c, "i"), "Q3", "stage macros of the old message dropped at MAIL");
	T_OK(mp_in_message(c), "in a message after MAIL");
	p.n = 0;
	put(&p, SMFIC_ABORT, NULL, 0);
	put(&p, SMFIC_QUIT, NULL, 0);
	T_INT(mp_feed(c, p.b, p.n), 1, "QUIT ends the connection");
	T_INT(r.closes, 1, "close called once");
	mp_free(c);
	T_INT(r.closes, 1, "close not called again by mp_free");
}

static void test_no_nr_support(void)
{
	struct rec r = { .at_eom = MP_REJECT };
	struct pk p = { .n = 0 };
	mp_conn *c = mp_new(&H, &r);
	optneg(&p, 2, SMFIF_ADDHDRS | SMFIF_CHGHDRS, 0);   /* an old MTA: no NR_*, no symlists */
	message(&p);
	T_INT(mp_feed(c, p.b, p.n), 0, "old MTA: message accepted");
	size_t len;
	const unsigned char *o = mp_output(c, &len);
	uint32_t v[3];
	memcpy(v, o + 5, 12);
	T_INT(ntohl(v[0]), 2, "version answered as the MTA's");
	T_INT(ntohl(v[2]), 0, "no protocol flags the MTA did not offer");
	T_INT(ntohl(*(const uint32_t *)o), 13, "no macro lists when SETSYMLIST is not offered");
	mp_output_done(c, 17);
	char letters[32];
	reply_letters(c, letters, sizeof(letters));
	T_STR(letters, "cccccccccmiy", "every step answered; reject with our reply code at EOM");
	mp_free(c);
	T_INT(r.closes, 1, "mp_free closes");
}

static void test_reply_text(void)
{
	struct rec r = { .at_eom = MP_REJECT };
	struct pk p = { .n = 0 };
	mp_conn *c = mp_new(&H, &r);
	optneg(&p, 6, 0x1ff, 0x1fffff);
	message(&p);
	T_INT(mp_feed(c, p.b, p.n), 0, "rejecting message");
	size_t len;
	const unsigned char *o = mp_output(c, &len);
	T_OK(memmem(o, len, "y", 1) != NULL && memmem(o, len, "550 5.7.1 no thanks", 20) != NULL,
	     "SMFIR_REPLYCODE carries \"550 5.7.1 no thanks\\0\"");
	T_OK(mp_setreply(c, "250", NULL, "x") == -1, "setreply refuses a 2xx code");
	T_OK(mp_setreply(c, "550", "5.7.1", "two\r\nlines") == -1, "setreply refuses CR LF");
	T_OK(mp_insheader(c, 0, "X", "y") == -1, "modifications refused outside EOM");
	mp_free(c);
}

static void test_refuse_and_errors(void)
{
	struct rec r = { .at_eom = MP_CONTINUE };
	struct pk p = { .n = 0 };
	mp_conn *c = mp_new(&H, &r);
	optneg(&p, 6, SMFIF_ADDHDRS, 0x1fffff);     /* no CHGHDRS */
	T_INT(mp_feed(c, p.b, p.n), -1, "MTA without header changes refused");
	T_INT(r.refused, 1, "refuse handler called");
	mp_free(c);

	c = mp_new(&H, &r);
	unsigned char big[8] = { 0x7f, 0xff, 0xff, 0xff, 'B', 0, 0, 0 };
	T_INT(mp_feed(c, big, sizeof(big)), -1, "packet over the cap refused before it is read");
	T_OK(strstr(mp_error(c), "cap") != NULL, "error names the cap");
	mp_free(c);

	c = mp_new(&H, &r);
	unsigned char zero[5] = { 0, 0, 0, 0, 'B' };
	T_INT(mp_feed(c, zero, sizeof(zero)), -1, "zero-length packet refused");
	mp_free(c);

	c = mp_new(&H, &r);
	p.n = 0;
	put(&p, 'Z', "x", 1);
	T_INT(mp_feed(c, p.b, p.n), -1, "unknown command refused");
	mp_free(c);

	c = mp_new(&H, &r);
	p.n = 0;
	put(&p, SMFIC_OPTNEG, "\0\0\0\6", 4);
	T_INT(mp_feed(c, p.b, p.n), -1, "short negotiation refused");
	mp_free(c);
}

static void test_order_and_quit_nc(void)
{
	struct rec r = { .at_eom = MP_CONTINUE };
	struct pk p = { .n = 0 };
	mp_conn *c = mp_new(&H, &r);
	optneg(&p, 6, 0x1ff, 0x1fffff);
	put(&p, SMFIC_CONNECT, "h\0U", 3);
	put(&p, SMFIC_HEADER, "From\0 x", 8);            /* before MAIL: ignored */
	put(&p, SMFIC_MAIL, "<a@x>", 6);
	put(&p, SMFIC_EOH, NULL, 0);
	put(&p, SMFIC_HEADER, "Late\0 x", 8);            /* after EOH: ignored */
	put(&p, SMFIC_MAIL, "<b@x>", 6);                 /* inside a message: abort first */
	put(&p, SMFIC_BODYEOB, "tail", 4);               /* EOM with a last body chunk */
	put(&p, SMFIC_QUIT_NC, NULL, 0);
	put(&p, SMFIC_CONNECT, "h2\0" "6\0\0" "IPv6:2001:DB8::1", 23);
	T_INT(mp_feed(c, p.b, p.n), 0, "odd order handled");
	T_STR(r.log, "C h ;M <a@x>;N;A;M <b@x>;B 4;E;C h2 2001:db8::1;",
	      "out-of-order commands ignored, MAIL in a message aborts, QUIT_NC restarts");
	T_INT(r.opens, 2, "QUIT_NC opened a new connection state");
	T_INT(r.closes, 1, "and closed the old one");
	mp_free(c);
	T_INT(r.closes, 2, "mp_free closed the second");

	/* a long header value (over one read buffer) arrives whole */
	struct rec r2 = { .at_eom = MP_CONTINUE };
	static struct pk q;
	q.n = 0;
	c = mp_new(&H, &r2);
	optneg(&q, 6, 0x1ff, 0x1fffff);
	put(&q, SMFIC_MAIL, "<a@x>", 6);
	static char hv[150000];
	memcpy(hv, "X-Big", 6);
	memset(hv + 6, 'v', sizeof(hv) - 7);
	hv[sizeof(hv) - 1] = '\0';
	put(&q, SMFIC_HEADER, hv, sizeof(hv));
	T_INT(mp_feed(c, q.b, q.n), 0, "150 KB header packet");
	T_OK(strstr(r2.log, "L X-Big=vvvvvvvvvvvvvvvvvvvv/149993;") != NULL,
	     "header value handed over whole");
	mp_free(c);
}

static int in_place;   /* feed_at: through mp_input_at (engine.c) or mp_inbuf */

/* feed_at - n bytes arriving at time now (ms). */
static int feed_at(mp_conn *c, const unsigned char *p, size_t n, long long now)
{
	if (in_place)
		return mp_input_at(c, p, n, now);
	while (n > 0) {
		size_t room;
		unsigned char *dst = mp_inbuf(c, &room);
		if (dst == NULL)
			return -1;
		size_t k = n < room ? n : room;
		memcpy(dst, p, k);
		int r = mp_received_at(c, k, now);
		if (r != 0)
			return r;
		p += k;
		n -= k;
	}
	return 0;
}

/* Deadlines: milter.timeout counts from an incomplete command's first byte
 * however slowly the rest trickles in; between commands the idle limit
 * counts from the last read. */
static void test_deadlines(void)
{
	struct rec r = { .at_eom = MP_CONTINUE };
	struct pk p = { .n = 0 };
	mp_conn *c = mp_new(&H, &r);
	optneg(&p, 6, 0x1ff, 0x1fffff);
	T_INT(feed_at(c, p.b, p.n, 1000), 0, "negotiation");
	size_t len;
	mp_output(c, &len);
	mp_output_done(c, len);
	T_OK(!mp_partial(c), "nothing incomplete after a whole command");
	T_INT(mp_deadline(c, 1000, 2000, 360000), 361000, "between commands: last read + idle");
	p.n = 0;
	static const unsigned char conn[] = { 'h', '.', 'e', 'x', 0, '4', 0, 25,
					      '1', '9', '2', '.', '0', '.', '2', '.', '1', 0 };
	put(&p, SMFIC_CONNECT, conn, sizeof(conn));
	/* one byte every 1.5 s: the deadline stays at the first byte + timeout */
	long long t = 5000;
	T_INT(feed_at(c, p.b, 1, t), 0, "first byte");
	T_INT(mp_deadline(c, t, 2000, 360000), 7000, "command started: first byte + timeout");
	for (size_t i = 1; i < 4; i++)
		T_INT(feed_at(c, p.b + i, 1, t + 1500 * (long long)i), 0, "another byte");
	T_INT(mp_deadline(c, t + 4500, 2000, 360000), 7000, "trickled bytes do not move the deadline");
	T_INT(feed_at(c, p.b + 4, p.n - 5, 6000), 0, "most of the rest");
	T_INT(mp_deadline(c, 6000, 2000, 360000), 7000, "still the first byte's deadline");
	/* the last byte of CONNECT and the first two of the next command in one read */
	unsigned char more[3] = { p.b[p.n - 1], 0, 0 };
	T_INT(feed_at(c, more, 3, 6500), 0, "end of one command, start of the next");
	T_INT(mp_deadline(c, 6500, 2000, 360000), 8500, "a new command's deadline from its own first byte");
	unsigned char rest[3] = { 0, 1, SMFIC_ABORT };
	T_INT(feed_at(c, rest, 3, 7000), 0, "the next command whole");
	T_OK(!mp_partial(c), "nothing incomplete");
	T_INT(mp_deadline(c, 7000, 2000, 360000), 367000, "idle again: last read + idle");
	T_STR(r.log, "C h.ex 192.0.2.1;", "the trickled command was handled");
	mp_free(c);
}

/* mp_input_at: packets handled in place, only an incomplete one copied;
 * the same events however the bytes are cut. */
static void test_input_in_place(void)
{
	struct pk p = { .n = 0 };
	optneg(&p, 6, 0x1ff, 0x1fffff);
	size_t neg = p.n;
	message(&p);
	char first[4096] = "";
	for (size_t cut = 1; cut <= 7; cut++) {
		struct rec r = { .at_eom = MP_CONTINUE };
		mp_conn *c = mp_new(&H, &r);
		int rc = mp_input_at(c, p.b, neg, 1);
		size_t len;
		mp_output(c, &len);
		mp_output_done(c, len);
		/* the rest in pieces of cut * 13 bytes: packets split anywhere */
		for (size_t off = neg; off < p.n && rc == 0; off += cut * 13)
			rc = mp_input_at(c, p.b + off, p.n - off < cut * 13 ? p.n - off : cut * 13, 2);
		T_INT(rc, 0, "message in pieces handled in place");
		T_OK(!mp_partial(c), "nothing left incomplete");
		if (cut == 1)
			snprintf(first, sizeof(first), "%s", r.log);
		else if (strcmp(first, r.log) != 0)
			T_STR(r.log, first, "same events whatever the cut");
		mp_free(c);
	}
	T_OK(strstr(first, "E;") != NULL, "end of message reached");
	/* a packet over the cap is refused from its length alone */
	struct rec r = { .at_eom = MP_CONTINUE };
	mp_conn *c = mp_new(&H, &r);
	unsigned char big[4] = { 0x10, 0, 0, 0 };
	T_INT(mp_input_at(c, big, 4, 1), -1, "length over the cap refused in place");
	mp_free(c);
}

/* test_sendmail_flow - the command sequence Sendmail 8.17 sends (recorded on
 * the wire with tests/integration/sendmail.sh's set-up): negotiation with
 * every action and flag offered; macros for each stage sent even when empty
 * (HELO before STARTTLS) and for DATA although SMFIP_NODATA was negotiated
 * (no DATA command follows); HELO again after STARTTLS with {tls_version};
 * header values with their leading space and folds as bare LF; the
 * abort Sendmail sends after a rejected message; a new transaction. */
static void test_sendmail_flow(void)
{
	struct rec r = { .at_eom = MP_REJECT };
	struct pk p = { .n = 0 };
	mp_conn *c = mp_new(&H, &r);
	optneg(&p, 6, 0x1ff, 0x1fffff);
	T_INT(mp_feed(c, p.b, p.n), 0, "sendmail: negotiation accepted");
	size_t len;
	const unsigned char *o = mp_output(c, &len);
	/* symlists: stage numbers as 32-bit values, then the names, in stage order */
	static const unsigned char lists[] = "\0\0\0\0{client_addr} j\0\0\0\0\x05i";
	T_OK(len == 17 + sizeof(lists) && memcmp(o + 17, lists, sizeof(lists)) == 0,
	     "sendmail: macro lists for connect and end of message, as Sendmail parses them");
	mp_output_done(c, len);

	p.n = 0;
	put(&p, SMFIC_MACRO, "C{client_addr}\0" "127.0.0.1\0{daemon_name}\0MTA-test\0j\0sendmail.test", 64);
	put(&p, SMFIC_CONNECT, "localhost\0" "4\x82\x8c" "127.0.0.1", 23);
	put(&p, SMFIC_MACRO, "H", 1);                       /* an empty list before STARTTLS */
	put(&p, SMFIC_HELO, "mta.example.test", 17);
	put(&p, SMFIC_MACRO, "H{tls_version}\0TLSv1.3", 23);
	put(&p, SMFIC_HELO, "mta.example.test", 17);        /* EHLO again after STARTTLS */
	put(&p, SMFIC_MACRO, "Mi\0" "6B6FrR2m009681\0{auth_authen}\0tester@sendmail.test", 53);
	put(&p, SMFIC_MAIL, "<bounce@example.test>", 22);
	put(&p, SMFIC_MACRO, "Ri\0" "6B6FrR2m009681\0{rcpt_mailer}\0relay", 38);
	put(&p, SMFIC_RCPT, "<bob@recipient.test>", 21);
	put(&p, SMFIC_MACRO, "Ti\0" "6B6FrR2m009681", 18);     /* DATA macros, no DATA command */
	put(&p, SMFIC_HEADER, "DKIM-Signature\0 v=1; a=rsa-sha256;\n b=abc", 42);
	put(&p, SMFIC_HEADER, "Subject\0   three spaces", 24);
	put(&p, SMFIC_MACRO, "Ni\0" "6B6FrR2m009681", 18);
	put(&p, SMFIC_EOH, NULL, 0);
	put(&p, SMFIC_BODY, "Hello\r\n", 7);
	put(&p, SMFIC_MACRO, "Ei\0" "6B6FrR2m009681\0{msg_id}\0<m@example.test>", 44);
	put(&p, SMFIC_BODYEOB, NULL, 0);
	T_INT(mp_feed(c, p.b, p.n), 0, "sendmail: a message");
	T_STR(r.log, "C localhost 127.0.0.1;H mta.example.test;H mta.example.test;M <bounce@example.test>;"
		     "R <bob@recipient.test>;L DKIM-Signature= v=1; a=rsa-sha256;\n/26;"
		     "L Subject=   three spaces/15;N;B 7;E;", "sendmail: events, HELO twice, header bytes kept");
	T_STR(r.auth_at_mail, "tester@sendmail.test", "sendmail: {auth_authen} at MAIL");
	T_STR(mp_macro(c, "{tls_version}"), "TLSv1.3", "sendmail: {tls_version} from the second HELO");
	T_STR(mp_macro(c, "{daemon_name}"), "MTA-test", "sendmail: {daemon_name} from connect");
	char letters[32];
	reply_letters(c, letters, sizeof(letters));
	T_STR(letters, "miy", "sendmail: no step answered (NR_*), EOM: the handler's edits and the reply code");

	/* Sendmail aborts the filters after a rejected message; then a new one */
	p.n = 0;
	put(&p, SMFIC_ABORT, NULL, 0);
	put(&p, SMFIC_MACRO, "Mi\0" "6B6FrR2n009681", 18);
	put(&p, SMFIC_MAIL, "<bounce@example.test>", 22);
	T_INT(mp_feed(c, p.b, p.n), 0, "sendmail: abort, then MAIL");
	T_STR(r.macro_at_mail, "6B6FrR2n009681", "sendmail: the new queue id at MAIL");
	T_OK(strstr(r.log, "E;A;") == NULL, "sendmail: no abort event for a message already answered");
	T_OK(mp_macro(c, "{msg_id}") == NULL, "sendmail: end-of-message macros of the old message gone");
	T_STR(mp_macro(c, "{tls_version}"), "TLSv1.3", "sendmail: connection macros kept");
	mp_free(c);
}

int main(void)
{
	test_deadlines();
	in_place = 1;
	test_deadlines();
	test_input_in_place();
	test_postfix_flow();
	test_no_nr_support();
	test_reply_text();
	test_refuse_and_errors();
	test_order_and_quit_nc();
	test_sendmail_flow();
	return t_done();
}
