/*
 * milterload - a milter-protocol (version 6) load client: drives a milter the
 * way an MTA does, without an MTA, to measure the milter alone.
 *
 * N connections run at once (one thread each). Each sends option negotiation,
 * then per message the macros an MTA sends (j, {daemon_name}, i), CONNECT,
 * HELO, MAIL, RCPT, the header fields, EOH, the body in chunks and EOM, and
 * reads the replies the negotiation asked for, including the modification
 * actions (SMFIR_INSHEADER, SMFIR_CHGHEADER, SMFIR_QUARANTINE, ...) that come
 * before the final reply to EOM. Steps the milter negotiated away (SMFIP_NO*)
 * are not sent; steps with "no reply" (SMFIP_NR_*) are not waited for, and
 * their commands are sent together with the next command that needs a reply
 * (one write per round trip, as a pipelining MTA would). TCP_NODELAY is set on
 * inet connections, so this side never waits for a delayed ACK.
 *
 * Usage: milterload -s SOCKET [-c CONNS] [-n MESSAGES] [-k PER_CONN] [-W]
 *                   [-i IP] [-H HELO] [-f FROM] [-t RCPT] [-e TEXT] [-w SECS] FILE...
 *        milterload -s SOCKET [-I IDLE] [-S SLOW] [-M HELD] [-T SECS] [-P PROBES]
 *                   [-R PID] [other options as above] FILE...
 *   SOCKET      unix:/path or inet:PORT@HOST (IPv4 address)
 *   -k PER      messages per connection (0: one connection per thread for all)
 *   -W          write each command as soon as it is made (Postfix's milter
 *               client flushes after every command) instead of one write per
 *               round trip
 *   -e TEXT     count messages where a header the milter added contains TEXT
 *
 * The second form holds connections open the way a crowd of slow or stuck
 * SMTP sessions would, then measures a new client: -I IDLE connections
 * negotiate, send CONNECT and HELO and stay silent; -S SLOW connections go
 * as far as the end of the header and then trickle a body chunk one byte
 * every -T SECS (default 2) to each of them; -M HELD connections each have
 * one message evaluated, then send a second whole message but EOM and then
 * most of a 64 KB body chunk (the most state a connection can make the
 * milter hold). Once all are open, -R PID reads
 * that process's VmRSS and VmHWM from /proc, then -P PROBES (default 5) new
 * clients in turn each send one message on a new connection and wait for
 * the verdict; their latency is measured from connect to final reply.
 * Prints: idle=.. slow=.. held=.. alive=.. (still open after the probes)
 * probes=.. probe_ok=.. median_ms=.. max_ms=.. rss_kib=.. hwm_kib=..; exit 0
 * when every probe got a verdict and every held connection is still open.
 *
 * The message files (RFC 5322, LF or CRLF line ends) are sent in turn.
 * Prints one line: messages=.. ok=.. reject=.. tempfail=.. discard=..
 * other=.. errors=.. expect=.. seconds=.. rate=..  Exit 0 when every
 * message got a final reply and no error happened, 1 otherwise, 2 on usage.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <libmilter/mfapi.h>
#include <libmilter/mfdef.h>

#define MILTER_VERSION 6           /* the protocol version Postfix 3.7 and libmilter 8.17 speak */
#define MAX_FILES 16               /* message files cycled through */
#define MAX_FILE_BYTES (8u << 20)  /* a test message; milters cap far lower */
#define MAX_HEADERS 1000           /* header fields per message file */
#define MAX_REPLY (1u << 20)       /* one reply packet: SMFIR_REPLBODY chunks are 64 KB */
#define MAX_THREADS 1000           /* concurrent connections */
#define OUTBUF_START 16384         /* grows to the largest message's commands */
#define INBUF_SIZE 65536           /* read buffer per connection */

/* Protocol steps we offer: everything libmilter 8.17 knows. */
#define OFFER_ACTIONS (SMFIF_ADDHDRS | SMFIF_CHGBODY | SMFIF_ADDRCPT | SMFIF_DELRCPT | \
		       SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_CHGFROM | SMFIF_ADDRCPT_PAR | \
		       SMFIF_SETSYMLIST)
#define OFFER_PROTO 0x001FFFFFUL

struct header {
	char *name;
	char *value;               /* as after the colon, folds as "\n" (as Postfix sends) */
};

struct msgfile {
	struct header h[MAX_HEADERS];
	size_t nh;
	unsigned char *body;       /* CRLF line ends */
	size_t bodylen;
};

struct opts {
	const char *sock;
	unsigned conns;
	unsigned long messages;
	unsigned long per_conn;
	const char *ip, *helo, *from, *rcpt, *expect;
	unsigned timeout;
	int write_each;            /* -W: one write per command, as Postfix's milter client does */
	unsigned idle, slow, held; /* -I, -S, -M: connections to hold open */
	unsigned trickle_s;        /* -T: seconds between two bytes of a slow connection */
	unsigned probes;           /* -P */
	long rss_pid;              /* -R */
	struct msgfile files[MAX_FILES];
	size_t nfiles;
	int unix_sock;
	struct sockaddr_un sun;
	struct sockaddr_in sin;
};

struct counters {
	unsigned long next;        /* next message number to take */
	unsigned long ok, reject, tempfail, discard, other, errors, expect;
};

struct conn {
	const struct opts *o;
	struct counters *k;
	int fd;
	unsigned long pflags;      /* negotiated protocol flags */
	unsigned char *out;
	size_t outlen, outcap;
	unsigned char *in;         /* INBUF_SIZE, allocated on connect */
	size_t inoff, inlen;
	unsigned char *pkt;        /* current reply packet */
	size_t pktcap;
	unsigned long on_conn;     /* messages sent on this connection */
};

/* die - usage or set-up error. */
static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "milterload: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

/* load_file - parse one message file into header fields and a CRLF body. */
static void load_file(const char *path, struct msgfile *m)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		die("cannot open", path);
	unsigned char *raw = malloc(MAX_FILE_BYTES);
	if (raw == NULL)
		die("out of memory", NULL);
	size_t n = fread(raw, 1, MAX_FILE_BYTES, f);
	if (n == MAX_FILE_BYTES)
		die("message file too large", path);
	fclose(f);
	/* The body can at most double (LF -> CRLF) */
	m->body = malloc(2 * n + 2);
	if (m->body == NULL)
		die("out of memory", NULL);
	size_t pos = 0;
	int in_body = 0;
	while (pos < n) {
		size_t end = pos;
		while (end < n && raw[end] != '\n')
			end++;
		size_t next = end < n ? end + 1 : end;
		size_t len = end - pos;
		if (len > 0 && raw[pos + len - 1] == '\r')
			len--;
		const char *line = (const char *)raw + pos;
		if (in_body) {
			memcpy(m->body + m->bodylen, line, len);
			m->bodylen += len;
			m->body[m->bodylen++] = '\r';
			m->body[m->bodylen++] = '\n';
		} else if (len == 0) {
			in_body = 1;
		} else if ((line[0] == ' ' || line[0] == '\t') && m->nh > 0) {
			struct header *h = &m->h[m->nh - 1];
			size_t ol = strlen(h->value);
			char *v = realloc(h->value, ol + len + 2);
			if (v == NULL)
				die("out of memory", NULL);
			v[ol] = '\n';
			memcpy(v + ol + 1, line, len);
			v[ol + 1 + len] = '\0';
			h->value = v;
		} else {
			const char *colon = memchr(line, ':', len);
			if (colon == NULL)
				die("header line without a colon", path);
			if (m->nh == MAX_HEADERS)
				die("too many header fields", path);
			struct header *h = &m->h[m->nh++];
			size_t nl = (size_t)(colon - line), vl = len - nl - 1;
			h->name = strndup(line, nl);
			h->value = strndup(colon + 1, vl);
			if (h->name == NULL || h->value == NULL)
				die("out of memory", NULL);
		}
		pos = next;
	}
	free(raw);
}

/* parse_socket - unix:/path or inet:PORT@HOST into the opts' address. */
static void parse_socket(struct opts *o)
{
	const char *s = o->sock;
	if (strncmp(s, "unix:", 5) == 0 || strncmp(s, "local:", 6) == 0) {
		const char *p = strchr(s, ':') + 1;
		o->unix_sock = 1;
		o->sun.sun_family = AF_UNIX;
		if (strlen(p) >= sizeof(o->sun.sun_path))
			die("socket path too long", p);
		memcpy(o->sun.sun_path, p, strlen(p) + 1);
		return;
	}
	if (strncmp(s, "inet:", 5) == 0) {
		const char *p = s + 5, *at = strchr(p, '@');
		long port = strtol(p, NULL, 10);
		if (port <= 0 || port > 65535)
			die("bad port", s);
		o->sin.sin_family = AF_INET;
		o->sin.sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, at ? at + 1 : "127.0.0.1", &o->sin.sin_addr) != 1)
			die("bad IPv4 address", s);
		return;
	}
	die("socket must be unix:/path or inet:PORT@HOST", s);
}

static int flush(struct conn *c);

/* put - append bytes to the output buffer (grows; the commands of one
 * message plus a few packets). */
static void put(struct conn *c, const void *p, size_t n)
{
	if (c->outlen + n > c->outcap) {
		size_t cap = c->outcap ? c->outcap : OUTBUF_START;
		while (cap < c->outlen + n)
			cap *= 2;
		unsigned char *b = realloc(c->out, cap);
		if (b == NULL)
			die("out of memory", NULL);
		c->out = b;
		c->outcap = cap;
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

/* cmd - append one packet: length, command byte, then up to three parts. */
static void cmd(struct conn *c, char code, const void *a, size_t al, const void *b, size_t bl)
{
	uint32_t len = htonl((uint32_t)(1 + al + bl));
	put(c, &len, 4);
	put(c, &code, 1);
	if (al)
		put(c, a, al);
	if (bl)
		put(c, b, bl);
	if (c->o->write_each)
		(void)flush(c);  /* a failed write shows up at the next read */
}

/* cmd_str - a command whose data is NUL-terminated strings given as one
 * buffer (embedded NULs included: n is the full length). */
static void cmd_str(struct conn *c, char code, const char *s, size_t n)
{
	cmd(c, code, s, n, NULL, 0);
}

/* flush - write the buffered commands; -1 on error. */
static int flush(struct conn *c)
{
	size_t off = 0;
	while (off < c->outlen) {
		ssize_t w = write(c->fd, c->out + off, c->outlen - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	c->outlen = 0;
	return 0;
}

/* read_bytes - exactly n bytes through the connection's buffer; -1 on EOF,
 * error or timeout. */
static int read_bytes(struct conn *c, unsigned char *dst, size_t n)
{
	while (n > 0) {
		if (c->inoff == c->inlen) {
			ssize_t r = read(c->fd, c->in, INBUF_SIZE);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			c->inoff = 0;
			c->inlen = (size_t)r;
		}
		size_t take = c->inlen - c->inoff < n ? c->inlen - c->inoff : n;
		memcpy(dst, c->in + c->inoff, take);
		c->inoff += take;
		dst += take;
		n -= take;
	}
	return 0;
}

/* read_packet - one reply: returns its command byte (data in c->pkt, length
 * in *len), or -1. */
static int read_packet(struct conn *c, size_t *len)
{
	unsigned char hdr[4];
	if (read_bytes(c, hdr, 4) != 0)
		return -1;
	uint32_t n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n < 1 || n > MAX_REPLY)
		return -1;
	if (c->pktcap < n) {
		unsigned char *p = realloc(c->pkt, n);
		if (p == NULL)
			return -1;
		c->pkt = p;
		c->pktcap = n;
	}
	if (read_bytes(c, c->pkt, n) != 0)
		return -1;
	*len = n - 1;
	return c->pkt[0];
}

enum outcome { OC_CONTINUE, OC_SKIP, OC_OK, OC_REJECT, OC_TEMPFAIL, OC_DISCARD, OC_OTHER, OC_ERROR };

/* final_of - the outcome a final reply code means. */
static enum outcome final_of(int code, int eom)
{
	switch (code) {
	case SMFIR_CONTINUE: return eom ? OC_OK : OC_CONTINUE;
	case SMFIR_ACCEPT: return OC_OK;
	case SMFIR_REJECT: return OC_REJECT;
	case SMFIR_TEMPFAIL: return OC_TEMPFAIL;
	case SMFIR_DISCARD: return OC_DISCARD;
	case SMFIR_REPLYCODE: return OC_OTHER;
	default: return OC_ERROR;
	}
}

/* has_text - nonzero if TEXT occurs in the n bytes at p. */
static int has_text(const unsigned char *p, size_t n, const char *text)
{
	size_t tl = strlen(text);
	if (tl == 0 || tl > n)
		return tl == 0;
	for (size_t i = 0; i + tl <= n; i++)
		if (memcmp(p + i, text, tl) == 0)
			return 1;
	return 0;
}

/* reply - flush, then read until a final reply. At EOM the modification
 * actions come first; *expect is set when an added/inserted/changed header
 * contains the -e text. A 'y' reply carries its own SMTP code: 4xx/5xx. */
static enum outcome reply(struct conn *c, int eom, int *expect)
{
	if (flush(c) != 0)
		return OC_ERROR;
	for (;;) {
		size_t len;
		int code = read_packet(c, &len);
		switch (code) {
		case -1:
			return OC_ERROR;
		case SMFIR_PROGRESS:
			continue;
		case SMFIR_SKIP:
			return OC_SKIP;
		case SMFIR_ADDHEADER: case SMFIR_INSHEADER: case SMFIR_CHGHEADER:
			if (!eom)
				return OC_ERROR;
			if (expect && c->o->expect && has_text(c->pkt + 1, len, c->o->expect))
				*expect = 1;
			continue;
		case SMFIR_ADDRCPT: case SMFIR_DELRCPT: case SMFIR_ADDRCPT_PAR: case SMFIR_CHGFROM:
		case SMFIR_REPLBODY: case SMFIR_QUARANTINE:
			if (!eom)
				return OC_ERROR;
			continue;
		case SMFIR_REPLYCODE:
			if (len >= 1 && c->pkt[1] == '4')
				return OC_TEMPFAIL;
			if (len >= 1 && c->pkt[1] == '5')
				return OC_REJECT;
			return OC_OTHER;
		default:
			return final_of(code, eom);
		}
	}
}

/* step - send (buffered) one command and, unless no reply was negotiated,
 * wait for the answer. */
static enum outcome step(struct conn *c, unsigned long nr_flag)
{
	if (c->pflags & nr_flag)
		return OC_CONTINUE;
	enum outcome oc = reply(c, 0, NULL);
	return oc == OC_SKIP ? OC_ERROR : oc;
}

/* macros - a SMFIC_MACRO packet for stage st from "name\0value\0..." */
static void macros(struct conn *c, char st, const char *nv, size_t n)
{
	cmd(c, SMFIC_MACRO, &st, 1, nv, n);
}

/* open_conn - connect, negotiate, CONNECT and HELO. */
static enum outcome open_conn(struct conn *c)
{
	const struct opts *o = c->o;
	c->fd = socket(o->unix_sock ? AF_UNIX : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return OC_ERROR;
	struct timeval tv = { .tv_sec = o->timeout, .tv_usec = 0 };
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int r;
	if (o->unix_sock) {
		r = connect(c->fd, (const struct sockaddr *)&o->sun, sizeof(o->sun));
	} else {
		int one = 1;
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		r = connect(c->fd, (const struct sockaddr *)&o->sin, sizeof(o->sin));
	}
	if (r != 0)
		return OC_ERROR;
	c->inoff = c->inlen = 0;
	c->on_conn = 0;
	if (c->in == NULL && (c->in = malloc(INBUF_SIZE)) == NULL)
		return OC_ERROR;
	uint32_t neg[3] = { htonl(MILTER_VERSION), htonl(OFFER_ACTIONS), htonl(OFFER_PROTO) };
	cmd(c, SMFIC_OPTNEG, neg, sizeof(neg), NULL, 0);
	if (flush(c) != 0)
		return OC_ERROR;
	size_t len;
	if (read_packet(c, &len) != SMFIC_OPTNEG || len < 12)
		return OC_ERROR;
	uint32_t pf;
	memcpy(&pf, c->pkt + 9, 4);
	c->pflags = ntohl(pf);

	char buf[512];
	int n = snprintf(buf, sizeof(buf), "j%cmx.bench.example%c{daemon_name}%csmtpd%c"
			 "{client_addr}%c%s%c", 0, 0, 0, 0, 0, o->ip, 0);
	macros(c, SMFIC_CONNECT, buf, (size_t)n);
	if (!(c->pflags & SMFIP_NOCONNECT)) {
		struct in_addr a;
		if (inet_pton(AF_INET, o->ip, &a) != 1)
			return OC_ERROR;
		uint16_t port = htons(25000);
		n = snprintf(buf, sizeof(buf), "client.bench.example%c4", 0);
		char data[600];
		size_t dl = 0;
		memcpy(data, buf, (size_t)n);          /* hostname, NUL, family '4' */
		dl = (size_t)n;
		memcpy(data + dl, &port, 2);
		dl += 2;
		size_t il = strlen(o->ip);
		memcpy(data + dl, o->ip, il + 1);
		dl += il + 1;
		cmd(c, SMFIC_CONNECT, data, dl, NULL, 0);
		enum outcome oc = step(c, SMFIP_NR_CONN);
		if (oc != OC_CONTINUE)
			return oc;
	}
	if (!(c->pflags & SMFIP_NOHELO)) {
		cmd_str(c, SMFIC_HELO, o->helo, strlen(o->helo) + 1);
		enum outcome oc = step(c, SMFIP_NR_HELO);
		if (oc != OC_CONTINUE)
			return oc;
	}
	return OC_CONTINUE;
}

/* close_conn - QUIT and close. */
static void close_conn(struct conn *c)
{
	if (c->fd < 0)
		return;
	cmd(c, SMFIC_QUIT, NULL, 0, NULL, 0);
	(void)flush(c);
	close(c->fd);
	c->fd = -1;
	c->outlen = 0;
}

enum hold { HOLD_NONE, HOLD_SLOW, HOLD_MID };
#define HELD_CHUNK_SENT 49152       /* of a 64 KB body chunk, for HOLD_MID */

/* message - one transaction; returns its outcome (OC_ERROR: drop the
 * connection). With a hold mode it stops early and writes what it has:
 * HOLD_SLOW before the body, HOLD_MID before EOM with most of one more body
 * chunk (OC_CONTINUE then). */
static enum outcome message_hold(struct conn *c, unsigned long num, int *expect, enum hold hold)
{
	const struct opts *o = c->o;
	const struct msgfile *m = &o->files[num % o->nfiles];
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "i%cB%08lX%c{mail_addr}%c%s%c", 0, num, 0, 0, o->from, 0);
	macros(c, SMFIC_MAIL, buf, (size_t)n);
	enum outcome oc;
	if (!(c->pflags & SMFIP_NOMAIL)) {
		n = snprintf(buf, sizeof(buf), "<%s>", o->from);
		cmd_str(c, SMFIC_MAIL, buf, (size_t)n + 1);
		if ((oc = step(c, SMFIP_NR_MAIL)) != OC_CONTINUE)
			return oc;
	}
	if (!(c->pflags & SMFIP_NORCPT)) {
		n = snprintf(buf, sizeof(buf), "<%s>", o->rcpt);
		cmd_str(c, SMFIC_RCPT, buf, (size_t)n + 1);
		if ((oc = step(c, SMFIP_NR_RCPT)) != OC_CONTINUE)
			return oc;
	}
	if (!(c->pflags & SMFIP_NODATA)) {
		cmd(c, SMFIC_DATA, NULL, 0, NULL, 0);
		if ((oc = step(c, SMFIP_NR_DATA)) != OC_CONTINUE)
			return oc;
	}
	if (!(c->pflags & SMFIP_NOHDRS)) {
		for (size_t i = 0; i < m->nh; i++) {
			const char *v = m->h[i].value;
			if (!(c->pflags & SMFIP_HDR_LEADSPC))
				while (*v == ' ' || *v == '\t')
					v++;
			cmd(c, SMFIC_HEADER, m->h[i].name, strlen(m->h[i].name) + 1, v, strlen(v) + 1);
			if ((oc = step(c, SMFIP_NR_HDR)) != OC_CONTINUE)
				return oc;
		}
	}
	if (!(c->pflags & SMFIP_NOEOH)) {
		cmd(c, SMFIC_EOH, NULL, 0, NULL, 0);
		if ((oc = step(c, SMFIP_NR_EOH)) != OC_CONTINUE)
			return oc;
	}
	if (hold == HOLD_SLOW)
		return flush(c) == 0 ? OC_CONTINUE : OC_ERROR;
	if (!(c->pflags & SMFIP_NOBODY)) {
		for (size_t off = 0; off < m->bodylen; off += MILTER_CHUNK_SIZE) {
			size_t len = m->bodylen - off < MILTER_CHUNK_SIZE ? m->bodylen - off : MILTER_CHUNK_SIZE;
			cmd(c, SMFIC_BODY, m->body + off, len, NULL, 0);
			if (c->pflags & SMFIP_NR_BODY)
				continue;
			if ((oc = reply(c, 0, NULL)) == OC_SKIP)
				break;
			if (oc != OC_CONTINUE)
				return oc;
		}
	}
	if (hold == HOLD_MID) {
		static unsigned char part[HELD_CHUNK_SENT];
		uint32_t len = htonl(1 + MILTER_CHUNK_SIZE);
		char code = SMFIC_BODY;
		memset(part, 'x', sizeof(part));
		put(c, &len, 4);
		put(c, &code, 1);
		put(c, part, sizeof(part));
		return flush(c) == 0 ? OC_CONTINUE : OC_ERROR;
	}
	n = snprintf(buf, sizeof(buf), "i%cB%08lX%c", 0, num, 0);
	macros(c, SMFIC_BODYEOB, buf, (size_t)n);
	cmd(c, SMFIC_BODYEOB, NULL, 0, NULL, 0);
	return reply(c, 1, expect);
}

static enum outcome message(struct conn *c, unsigned long num, int *expect)
{
	return message_hold(c, num, expect, HOLD_NONE);
}

/* count - add one message's outcome to the totals. */
static void count(struct counters *k, enum outcome oc, int expect)
{
	unsigned long *p;
	switch (oc) {
	case OC_OK: p = &k->ok; break;
	case OC_REJECT: p = &k->reject; break;
	case OC_TEMPFAIL: p = &k->tempfail; break;
	case OC_DISCARD: p = &k->discard; break;
	case OC_OTHER: p = &k->other; break;
	default: p = &k->errors; break;
	}
	__atomic_add_fetch(p, 1, __ATOMIC_RELAXED);
	if (expect)
		__atomic_add_fetch(&k->expect, 1, __ATOMIC_RELAXED);
}

/* worker - one connection at a time, messages until the total is reached. */
static void *worker(void *arg)
{
	struct conn *c = arg;
	const struct opts *o = c->o;
	c->fd = -1;
	for (;;) {
		unsigned long num = __atomic_fetch_add(&c->k->next, 1, __ATOMIC_RELAXED);
		if (num >= o->messages)
			break;
		if (c->fd < 0) {
			enum outcome oc = open_conn(c);
			if (oc != OC_CONTINUE) {
				count(c->k, oc, 0);
				if (c->fd >= 0)
					close(c->fd);
				c->fd = -1;
				c->outlen = 0;
				if (oc == OC_ERROR)
					usleep(10000);
				continue;
			}
		}
		int expect = 0;
		enum outcome oc = message(c, num, &expect);
		count(c->k, oc, expect);
		c->on_conn++;
		if (oc == OC_ERROR) {
			close(c->fd);
			c->fd = -1;
			c->outlen = 0;
			continue;
		}
		if (oc != OC_OK) {
			/* an early or negative final reply: the MTA aborts the transaction */
			cmd(c, SMFIC_ABORT, NULL, 0, NULL, 0);
		}
		if (o->per_conn != 0 && c->on_conn >= o->per_conn)
			close_conn(c);
	}
	close_conn(c);
	free(c->out);
	free(c->pkt);
	free(c->in);
	return NULL;
}

/* ---- holding connections open (-I, -S, -M) ---- */

struct holders {
	const struct opts *o;
	struct conn *c;            /* idle, then slow, then held */
	size_t n;
	size_t slow_from, slow_to; /* the slow ones: c[slow_from..slow_to) */
	int stop;                  /* atomic: the trickle thread ends */
};

/* A body chunk of 200 bytes, trickled: long enough to outlast any probe. */
#define TRICKLE_LEN 200

/* trickle - one more byte of the body chunk to every slow connection, each
 * -T seconds, until told to stop or the chunk is out. */
static void *trickle(void *arg)
{
	struct holders *hs = arg;
	unsigned char pkt[4 + TRICKLE_LEN];
	uint32_t len = htonl(TRICKLE_LEN);
	memcpy(pkt, &len, 4);
	pkt[4] = SMFIC_BODY;
	memset(pkt + 5, 'y', sizeof(pkt) - 5);
	for (size_t pos = 0; pos < sizeof(pkt) && !__atomic_load_n(&hs->stop, __ATOMIC_ACQUIRE); pos++) {
		for (size_t i = hs->slow_from; i < hs->slow_to; i++)
			if (hs->c[i].fd >= 0)
				(void)!send(hs->c[i].fd, pkt + pos, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
		for (unsigned t = 0; t < hs->o->trickle_s * 10 && !__atomic_load_n(&hs->stop, __ATOMIC_ACQUIRE); t++)
			usleep(100000);
	}
	return NULL;
}

/* hold_open - open connection i of the holders in its mode. */
static int hold_open(struct holders *hs, size_t i, enum hold mode, struct counters *k)
{
	struct conn *c = &hs->c[i];
	c->o = hs->o;
	c->k = k;
	c->fd = -1;
	if (open_conn(c) != OC_CONTINUE)
		return -1;
	if (mode == HOLD_NONE)
		return flush(c);
	int expect = 0;
	if (mode == HOLD_MID) {   /* a connection that has already had a message evaluated */
		enum outcome oc = message(c, 2000000 + i, &expect);
		if (oc != OC_OK && oc != OC_REJECT && oc != OC_TEMPFAIL && oc != OC_DISCARD && oc != OC_OTHER)
			return -1;
		if (oc != OC_OK)
			cmd(c, SMFIC_ABORT, NULL, 0, NULL, 0);
	}
	return message_hold(c, 1000000 + i, &expect, mode) == OC_CONTINUE ? 0 : -1;
}

/* alive - nonzero if the milter has not closed the connection. */
static int alive(const struct conn *c)
{
	struct pollfd pf = { .fd = c->fd, .events = POLLIN };
	if (c->fd < 0)
		return 0;
	if (poll(&pf, 1, 0) == 0)
		return 1;
	char b;
	return recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/* proc_kib - a "VmRSS:"-style line of /proc/PID/status in KiB; -1 if none. */
static long proc_kib(long pid, const char *key)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	FILE *f = fopen(path, "r");
	long v = -1;
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	if (f != NULL)
		fclose(f);
	return v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* probe - one new client, one message; its latency in ms, -1 without a verdict. */
static double probe(const struct opts *o, struct counters *k, unsigned long num)
{
	struct conn c = { .o = o, .k = k, .fd = -1 };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	enum outcome oc = open_conn(&c);
	int expect = 0;
	if (oc == OC_CONTINUE)
		oc = message(&c, num, &expect);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close_conn(&c);
	if (c.fd >= 0)
		close(c.fd);
	free(c.out);
	free(c.pkt);
	free(c.in);
	int verdict = oc == OC_OK || oc == OC_REJECT || oc == OC_TEMPFAIL || oc == OC_DISCARD || oc == OC_OTHER;
	return verdict ? (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6 : -1;
}

/* hold_run - the second form: hold connections, measure, report. */
static int hold_run(struct opts *o)
{
	static struct counters k;
	struct holders hs = { .o = o, .n = (size_t)o->idle + o->slow + o->held };
	hs.c = calloc(hs.n ? hs.n : 1, sizeof(*hs.c));
	if (hs.c == NULL)
		die("out of memory", NULL);
	hs.slow_from = o->idle;
	hs.slow_to = (size_t)o->idle + o->slow;
	size_t opened = 0;
	for (size_t i = 0; i < hs.n; i++) {
		enum hold mode = i < hs.slow_from ? HOLD_NONE : i < hs.slow_to ? HOLD_SLOW : HOLD_MID;
		if (hold_open(&hs, i, mode, &k) != 0) {
			fprintf(stderr, "milterload: holding connection %zu failed\n", i);
			break;
		}
		opened++;
	}
	pthread_t tt;
	int trickling = o->slow > 0 && opened == hs.n && pthread_create(&tt, NULL, trickle, &hs) == 0;
	sleep(1);                       /* the milter has taken in what was sent */
	long rss = o->rss_pid > 0 ? proc_kib(o->rss_pid, "VmRSS:") : -1;
	long hwm = o->rss_pid > 0 ? proc_kib(o->rss_pid, "VmHWM:") : -1;
	double *lat = calloc(o->probes ? o->probes : 1, sizeof(double));
	unsigned ok = 0;
	for (unsigned i = 0; lat != NULL && i < o->probes && opened == hs.n; i++) {
		double ms = probe(o, &k, i);
		if (ms >= 0)
			lat[ok++] = ms;
	}
	size_t still = 0;
	for (size_t i = 0; i < opened; i++)
		still += alive(&hs.c[i]) != 0;
	__atomic_store_n(&hs.stop, 1, __ATOMIC_RELEASE);
	if (trickling)
		pthread_join(tt, NULL);
	if (lat != NULL && ok > 0)
		qsort(lat, ok, sizeof(double), cmp_double);
	printf("idle=%u slow=%u held=%u opened=%zu alive=%zu probes=%u probe_ok=%u median_ms=%.1f "
	       "max_ms=%.1f rss_kib=%ld hwm_kib=%ld\n", o->idle, o->slow, o->held, opened, still,
	       o->probes, ok, ok ? lat[(ok - 1) / 2] : -1.0, ok ? lat[ok - 1] : -1.0, rss, hwm);
	for (size_t i = 0; i < opened; i++) {
		if (hs.c[i].fd >= 0)
			close(hs.c[i].fd);
		free(hs.c[i].out);
		free(hs.c[i].pkt);
		free(hs.c[i].in);
	}
	free(hs.c);
	int good = opened == hs.n && still == hs.n && ok == o->probes;
	free(lat);
	return good ? 0 : 1;
}

/* raise_nofile - the soft descriptor limit up to the hard one (many connections). */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* usage - the synopsis. */
static void usage(void)
{
	fprintf(stderr, "usage: milterload -s unix:/path|inet:PORT@HOST [-c CONNS] [-n MESSAGES] "
		"[-k PER_CONN] [-W] [-i IP] [-H HELO] [-f FROM] [-t RCPT] [-e TEXT] [-w SECS] "
		"[-I IDLE] [-S SLOW] [-M HELD] [-T SECS] [-P PROBES] [-R PID] FILE...\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct opts o;
	o.conns = 10;
	o.messages = 1000;
	o.per_conn = 1;
	o.ip = "192.0.2.25";
	o.helo = "mta.bench.example";
	o.from = "bounce@bench.example";
	o.rcpt = "user@recipient.example";
	o.timeout = 30;
	o.trickle_s = 2;
	o.probes = 5;
	int ch;
	while ((ch = getopt(argc, argv, "s:c:n:k:i:H:f:t:e:w:WI:S:M:T:P:R:")) != -1) {
		switch (ch) {
		case 's': o.sock = optarg; break;
		case 'c': o.conns = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'n': o.messages = strtoul(optarg, NULL, 10); break;
		case 'k': o.per_conn = strtoul(optarg, NULL, 10); break;
		case 'i': o.ip = optarg; break;
		case 'H': o.helo = optarg; break;
		case 'f': o.from = optarg; break;
		case 't': o.rcpt = optarg; break;
		case 'e': o.expect = optarg; break;
		case 'w': o.timeout = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'W': o.write_each = 1; break;
		case 'I': o.idle = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'S': o.slow = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'M': o.held = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'T': o.trickle_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'P': o.probes = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'R': o.rss_pid = strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (o.sock == NULL || optind == argc || o.conns == 0 || o.conns > MAX_THREADS)
		usage();
	if (strlen(o.ip) > 64 || strlen(o.helo) > 255 || strlen(o.from) > 255 || strlen(o.rcpt) > 255)
		die("envelope value too long", NULL);
	for (int i = optind; i < argc; i++) {
		if (o.nfiles == MAX_FILES)
			die("too many message files", NULL);
		load_file(argv[i], &o.files[o.nfiles++]);
	}
	parse_socket(&o);
	raise_nofile();
	if (o.idle || o.slow || o.held)
		return hold_run(&o);

	static struct counters k;
	struct conn *cs = calloc(o.conns, sizeof(*cs));
	pthread_t *th = calloc(o.conns, sizeof(*th));
	if (cs == NULL || th == NULL)
		die("out of memory", NULL);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	unsigned started = 0;
	for (unsigned i = 0; i < o.conns; i++) {
		cs[i].o = &o;
		cs[i].k = &k;
		if (pthread_create(&th[i], &attr, worker, &cs[i]) != 0)
			break;
		started++;
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	unsigned long done = k.ok + k.reject + k.tempfail + k.discard + k.other;
	printf("messages=%lu ok=%lu reject=%lu tempfail=%lu discard=%lu other=%lu errors=%lu "
	       "expect=%lu seconds=%.3f rate=%.0f\n", o.messages, k.ok, k.reject, k.tempfail,
	       k.discard, k.other, k.errors, k.expect, secs, secs > 0 ? (double)done / secs : 0.0);
	free(cs);
	free(th);
	return (k.errors == 0 && done == o.messages && started == o.conns) ? 0 : 1;
}
