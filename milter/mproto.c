/*
 * mproto - the milter protocol for one connection (see mproto.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include "mproto.h"

#define IN_START 16384u         /* most commands; grows to a whole packet (64 KB body chunks) */
#define OUT_START 4096u

/* Message phases, in the order the MTA sends them. */
enum phase { PH_NONE, PH_MAIL, PH_RCPT, PH_DATA, PH_HDR, PH_EOH, PH_BODY };

struct mp_conn {
	const struct mp_handler *h;
	void *arg;
	void *priv;
	int opened;                 /* open() was called (priv may still be NULL) */
	int connected;
	int in_msg;                 /* atomic: read by the drain from another thread */
	enum phase phase;
	unsigned long actions;      /* negotiated SMFIF_* */
	unsigned long pflags;       /* negotiated SMFIP_* */
	char *macros[MP_STAGES];    /* "name\0value\0..." as sent */
	size_t maclen[MP_STAGES];
	char *reply;                /* "rcode xcode text", set by mp_setreply */
	unsigned char *in;          /* only while a packet is incomplete (mp_received_at) */
	size_t inlen, incap;
	long long partial_since;    /* when the incomplete packet's first byte arrived */
	unsigned char *out;
	size_t outoff, outlen, outcap;
	int out_failed;
	const char *err;
};

/* ---- output ---- */

/* out_reserve - room for n more bytes; -1 past MP_MAX_OUT or on OOM. */
static int out_reserve(mp_conn *c, size_t n)
{
	if (n > MP_MAX_OUT || c->outlen + n > MP_MAX_OUT)
		return -1;
	if (c->outlen + n <= c->outcap)
		return 0;
	size_t cap = c->outcap ? c->outcap : OUT_START;
	while (cap < c->outlen + n)
		cap *= 2;
	unsigned char *p = realloc(c->out, cap);
	if (p == NULL)
		return -1;
	c->out = p;
	c->outcap = cap;
	return 0;
}

/* put_packet - one reply: command byte and up to three parts. */
static int put_packet(mp_conn *c, char cmd, const void *a, size_t al, const void *b, size_t bl,
		      const void *d, size_t dl)
{
	size_t len = 1 + al + bl + dl;
	if (len > MP_MAX_PACKET || out_reserve(c, 4 + len) != 0) {
		c->out_failed = 1;
		return -1;
	}
	uint32_t nl = htonl((uint32_t)len);
	unsigned char *p = c->out + c->outlen;
	memcpy(p, &nl, 4);
	p[4] = (unsigned char)cmd;
	p += 5;
	if (al) { memcpy(p, a, al); p += al; }
	if (bl) { memcpy(p, b, bl); p += bl; }
	if (dl) memcpy(p, d, dl);
	c->outlen += 4 + len;
	return 0;
}

/* put_simple - a reply without data. */
static void put_simple(mp_conn *c, char cmd)
{
	(void)put_packet(c, cmd, NULL, 0, NULL, 0, NULL, 0);
}

/* ---- macros ---- */

static void clear_stage(mp_conn *c, int i)
{
	free(c->macros[i]);
	c->macros[i] = NULL;
	c->maclen[i] = 0;
}

/* clear_after - a command at stage k drops the macros of later stages. */
static void clear_after(mp_conn *c, int k)
{
	for (int i = k + 1; i < MP_STAGES; i++)
		clear_stage(c, i);
}

/* stage_of - macro stage of a command byte; -1 if none. */
static int stage_of(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT: return SMFIM_CONNECT;
	case SMFIC_HELO: return SMFIM_HELO;
	case SMFIC_MAIL: return SMFIM_ENVFROM;
	case SMFIC_RCPT: return SMFIM_ENVRCPT;
	case SMFIC_DATA: return SMFIM_DATA;
	case SMFIC_BODYEOB: return SMFIM_EOM;
	case SMFIC_EOH: return SMFIM_EOH;
	default: return -1;
	}
}

/* do_macro - SMFIC_MACRO: stage command byte, then name\0value\0 pairs. A
 * list that is malformed or over the cap is dropped (the macros are then
 * simply unknown, as when the MTA does not send them). */
static void do_macro(mp_conn *c, const unsigned char *d, size_t n)
{
	if (n < 1)
		return;
	int st = stage_of(d[0]);
	if (st < 0)
		return;
	clear_stage(c, st);
	d++, n--;
	if (n == 0 || n > MP_MAX_MACRO_BYTES || d[n - 1] != '\0')
		return;
	char *copy = malloc(n);
	if (copy == NULL)
		return;
	memcpy(copy, d, n);
	c->macros[st] = copy;
	c->maclen[st] = n;
}

/* name_eq - macro names equal, with or without braces on either side. */
static int name_eq(const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	if (al >= 2 && a[0] == '{' && a[al - 1] == '}')
		a++, al -= 2;
	if (bl >= 2 && b[0] == '{' && b[bl - 1] == '}')
		b++, bl -= 2;
	return al == bl && memcmp(a, b, al) == 0;
}

/* mp_macro - see mproto.h. */
const char *mp_macro(const mp_conn *c, const char *name)
{
	for (int st = MP_STAGES - 1; st >= 0; st--) {
		const char *p = c->macros[st], *end = p ? p + c->maclen[st] : NULL;
		while (p != NULL && p < end) {
			const char *v = p + strlen(p) + 1;
			if (v >= end)
				break;
			if (name_eq(p, name))
				return v;
			p = v + strlen(v) + 1;
		}
	}
	return NULL;
}

/* ---- argument parsing ---- */

/* cstr - the NUL-terminated string at d[*off] within n bytes; NULL if none. */
static const char *cstr(const unsigned char *d, size_t n, size_t *off)
{
	if (*off >= n)
		return NULL;
	const unsigned char *z = memchr(d + *off, '\0', n - *off);
	if (z == NULL)
		return NULL;
	const char *s = (const char *)d + *off;
	*off = (size_t)(z - d) + 1;
	return s;
}

/* connect_ip - the client address of SMFIC_CONNECT as canonical text. */
static void connect_ip(const unsigned char *d, size_t n, size_t off, char *ip, size_t ipsz)
{
	ip[0] = '\0';
	if (off >= n)
		return;
	int fam = d[off++];
	if (fam != SMFIA_INET && fam != SMFIA_INET6)
		return;
	off += 2;                                  /* port */
	const char *a = cstr(d, n, &off);
	if (a == NULL)
		return;
	unsigned char bin[16];
	if (fam == SMFIA_INET6 && strncasecmp(a, "IPv6:", 5) == 0)
		a += 5;
	int af = fam == SMFIA_INET ? AF_INET : AF_INET6;
	if (inet_pton(af, a, bin) != 1 || inet_ntop(af, bin, ip, (socklen_t)ipsz) == NULL)
		ip[0] = '\0';
}

/* ---- steps ---- */

/* nr_bit - the "no reply" flag of a step command. */
static unsigned long nr_bit(int cmd)
{
	switch (cmd) {
	case SMFIC_CONNECT: return SMFIP_NR_CONN;
	case SMFIC_HELO: return SMFIP_NR_HELO;
	case SMFIC_MAIL: return SMFIP_NR_MAIL;
	case SMFIC_RCPT: return SMFIP_NR_RCPT;
	case SMFIC_DATA: return SMFIP_NR_DATA;
	case SMFIC_UNKNOWN: return SMFIP_NR_UNKN;
	case SMFIC_HEADER: return SMFIP_NR_HDR;
	case SMFIC_EOH: return SMFIP_NR_EOH;
	case SMFIC_BODY: return SMFIP_NR_BODY;
	default: return 0;
	}
}

static void set_in_msg(mp_conn *c, int v)
{
	__atomic_store_n(&c->in_msg, v, __ATOMIC_RELEASE);
	if (!v)
		c->phase = PH_NONE;
}

/* end_message - the message is over (final reply, abort, or a step's
 * reject/accept/discard); the SMTP reply text belongs to it. */
static void end_message(mp_conn *c)
{
	set_in_msg(c, 0);
	free(c->reply);
	c->reply = NULL;
}

static void put_answer(mp_conn *c, enum mp_action a);

/* answer - send a step's answer unless "no reply" was negotiated. */
static void answer(mp_conn *c, int cmd, enum mp_action a)
{
	if (!(c->pflags & nr_bit(cmd)))
		put_answer(c, a);
	if (a != MP_CONTINUE && c->in_msg)
		end_message(c);   /* the MTA stops sending this message */
}

/* put_answer - the reply packet for an action. */
static void put_answer(mp_conn *c, enum mp_action a)
{
	switch (a) {
	case MP_ACCEPT: put_simple(c, SMFIR_ACCEPT); break;
	case MP_DISCARD: put_simple(c, SMFIR_DISCARD); break;
	case MP_REJECT:
	case MP_TEMPFAIL: {
		char class = a == MP_REJECT ? '5' : '4';
		if (c->reply != NULL && c->reply[0] == class)
			(void)put_packet(c, SMFIR_REPLYCODE, c->reply, strlen(c->reply) + 1, NULL, 0, NULL, 0);
		else
			put_simple(c, a == MP_REJECT ? SMFIR_REJECT : SMFIR_TEMPFAIL);
		break;
	}
	case MP_CONTINUE:
	default:
		put_simple(c, SMFIR_CONTINUE);
		break;
	}
}

/* do_optneg - SMFIC_OPTNEG: version, actions, protocol flags (3 x 32 bits). */
static int do_optneg(mp_conn *c, const unsigned char *d, size_t n)
{
	uint32_t v[3];
	if (n < sizeof(v)) {
		c->err = "option negotiation too short";
		return -1;
	}
	memcpy(v, d, sizeof(v));
	unsigned long ver = ntohl(v[0]), act = ntohl(v[1]), proto = ntohl(v[2]);
	if (ver < 2) {
		c->err = "MTA protocol version too old";
		return -1;
	}
	if (act == 0)
		act = SMFI_V1_ACTS;
	if ((act & c->h->need_actions) != c->h->need_actions) {
		c->err = "MTA does not allow the header changes we need";
		if (c->priv != NULL)
			c->h->refuse(c->priv, c->err);
		return -1;
	}
	c->actions = act & c->h->want_actions;
	c->pflags = proto & c->h->want_proto;
	uint32_t r[3] = { htonl(ver < MP_VERSION ? (uint32_t)ver : MP_VERSION),
			  htonl((uint32_t)c->actions), htonl((uint32_t)c->pflags) };
	/* macro lists follow as (stage, "names\0") when the MTA takes them */
	unsigned char lists[1024];
	size_t ll = 0;
	for (int st = 0; (c->actions & SMFIF_SETSYMLIST) && st < MP_STAGES; st++) {
		const char *s = c->h->symlist[st];
		size_t sl = s ? strlen(s) + 1 : 0;
		if (sl == 0 || ll + 4 + sl > sizeof(lists))
			continue;
		uint32_t stn = htonl((uint32_t)st);
		memcpy(lists + ll, &stn, 4);
		memcpy(lists + ll + 4, s, sl);
		ll += 4 + sl;
	}
	return put_packet(c, SMFIC_OPTNEG, r, sizeof(r), lists, ll, NULL, 0);
}

/* do_connect - SMFIC_CONNECT: host\0, family, [port, address\0]. */
static void do_connect(mp_conn *c, const unsigned char *d, size_t n)
{
	size_t off = 0;
	const char *host = cstr(d, n, &off);
	char ip[64];
	connect_ip(d, n, off, ip, sizeof(ip));
	enum mp_action a = MP_CONTINUE;
	if (!c->connected) {
		c->connected = 1;
		a = c->h->connect(c->priv, host ? host : "", ip);
	}
	answer(c, SMFIC_CONNECT, a);
}

/* phase_ok - cmd's phase may follow the current one; same phase again is
 * fine for the repeating steps (rcpt, header, body). */
static int phase_ok(const mp_conn *c, enum phase p)
{
	if (!c->in_msg)
		return 0;
	if (p == c->phase)
		return p == PH_RCPT || p == PH_HDR || p == PH_BODY;
	return p > c->phase;
}

/* do_mail - SMFIC_MAIL: a new message (a message still open is aborted). */
static void do_mail(mp_conn *c, const unsigned char *d, size_t n)
{
	size_t off = 0;
	const char *path = cstr(d, n, &off);
	if (c->in_msg) {
		c->h->abort(c->priv);
		end_message(c);
	}
	set_in_msg(c, 1);
	c->phase = PH_MAIL;
	answer(c, SMFIC_MAIL, c->h->mail(c->priv, path ? path : "<>"));
}

/* do_step - rcpt, data, header, eoh and body, each only in its phase. */
static void do_step(mp_conn *c, int cmd, const unsigned char *d, size_t n)
{
	static const struct { int cmd; enum phase ph; } order[] = {
		{ SMFIC_RCPT, PH_RCPT }, { SMFIC_DATA, PH_DATA }, { SMFIC_HEADER, PH_HDR },
		{ SMFIC_EOH, PH_EOH }, { SMFIC_BODY, PH_BODY },
	};
	enum phase ph = PH_NONE;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (order[i].cmd == cmd)
			ph = order[i].ph;
	if (!phase_ok(c, ph)) {
		answer(c, cmd, MP_CONTINUE);     /* out of order: ignored */
		return;
	}
	c->phase = ph;
	enum mp_action a = MP_CONTINUE;
	size_t off = 0;
	switch (cmd) {
	case SMFIC_RCPT: {
		const char *path = cstr(d, n, &off);
		a = c->h->rcpt(c->priv, path ? path : "");
		break;
	}
	case SMFIC_DATA:
		break;
	case SMFIC_HEADER: {
		const char *name = cstr(d, n, &off);
		const char *value = cstr(d, n, &off);
		if (name != NULL && value != NULL)
			a = c->h->header(c->priv, name, value, strlen(value));
		break;
	}
	case SMFIC_EOH:
		a = c->h->eoh(c->priv);
		break;
	case SMFIC_BODY:
		a = c->h->body(c->priv, d, n);
		break;
	}
	answer(c, cmd, a);
}

/* do_eom - SMFIC_BODYEOB (with an optional last body chunk): the verdict. */
static void do_eom(mp_conn *c, const unsigned char *d, size_t n)
{
	if (!c->in_msg) {
		put_simple(c, SMFIR_CONTINUE);
		return;
	}
	if (n > 0 && phase_ok(c, PH_BODY))
		(void)c->h->body(c->priv, d, n);
	c->phase = PH_BODY + 1;      /* modifications are allowed now */
	enum mp_action a = c->h->eom(c->priv);
	answer(c, SMFIC_BODYEOB, a);  /* the final reply has no "no reply" flag */
	end_message(c);
}

/* do_abort - SMFIC_ABORT: the message is dropped, the connection stays. */
static void do_abort(mp_conn *c)
{
	if (c->in_msg)
		c->h->abort(c->priv);
	end_message(c);
}

/* close_priv - end the handler's connection state. */
static void close_priv(mp_conn *c)
{
	if (c->opened && c->priv != NULL && c->in_msg)
		c->h->abort(c->priv);
	if (c->opened && c->priv != NULL)
		c->h->close(c->priv);
	c->opened = 0;
	c->priv = NULL;
	c->connected = 0;
	set_in_msg(c, 0);
	for (int i = 0; i < MP_STAGES; i++)
		clear_stage(c, i);
	free(c->reply);
	c->reply = NULL;
}

/* dispatch - one packet; 0 go on, 1 quit, -1 error. */
static int dispatch(mp_conn *c, int cmd, const unsigned char *d, size_t n)
{
	if (!c->opened) {
		c->opened = 1;
		c->priv = c->h->open(c->arg, c);
		if (c->priv == NULL) {
			c->err = "cannot create connection state";
			return -1;
		}
	}
	int st = stage_of(cmd);
	if (st >= 0)
		clear_after(c, st);
	switch (cmd) {
	case SMFIC_OPTNEG: return do_optneg(c, d, n);
	case SMFIC_MACRO: do_macro(c, d, n); return 0;
	case SMFIC_CONNECT: do_connect(c, d, n); return 0;
	case SMFIC_HELO: {
		size_t off = 0;
		const char *name = cstr(d, n, &off);
		answer(c, cmd, c->connected ? c->h->helo(c->priv, name ? name : "") : MP_CONTINUE);
		return 0;
	}
	case SMFIC_MAIL: do_mail(c, d, n); return 0;
	case SMFIC_RCPT: case SMFIC_DATA: case SMFIC_HEADER: case SMFIC_EOH: case SMFIC_BODY:
		do_step(c, cmd, d, n);
		return 0;
	case SMFIC_BODYEOB: do_eom(c, d, n); return 0;
	case SMFIC_ABORT: do_abort(c); return 0;
	case SMFIC_UNKNOWN: answer(c, cmd, MP_CONTINUE); return 0;
	case SMFIC_QUIT: close_priv(c); return 1;
	case SMFIC_QUIT_NC: close_priv(c); return 0;
	default:
		c->err = "unknown milter command";
		return -1;
	}
}

/* ---- buffers ---- */

mp_conn *mp_new(const struct mp_handler *h, void *arg)
{
	mp_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->h = h;
	c->arg = arg;
	return c;
}

void mp_free(mp_conn *c)
{
	if (c == NULL)
		return;
	close_priv(c);
	free(c->in);
	free(c->out);
	free(c);
}

/* len_at - the length field of the packet at off (4 bytes must be there). */
static size_t len_at(const mp_conn *c, size_t off)
{
	uint32_t nl;
	memcpy(&nl, c->in + off, 4);
	return ntohl(nl);
}

unsigned char *mp_inbuf(mp_conn *c, size_t *room)
{
	size_t want = IN_START;
	if (c->inlen >= 4) {     /* a packet started: make it fit whole */
		size_t plen = len_at(c, 0) + 4;
		if (plen <= MP_MAX_PACKET + 4 && plen > want)
			want = plen;
	}
	if (want < c->inlen + 1)
		want = c->inlen + 1;
	if (c->incap < want) {
		unsigned char *p = realloc(c->in, want);
		if (p == NULL)
			return NULL;
		c->in = p;
		c->incap = want;
	}
	*room = c->incap - c->inlen;
	return c->in + c->inlen;
}

/* packet_len - the length field of the packet at p (4 bytes are there);
 * -1 with c->err if it is zero or over the cap. */
static long packet_len(mp_conn *c, const unsigned char *p)
{
	uint32_t nl;
	memcpy(&nl, p, 4);
	size_t len = ntohl(nl);
	if (len == 0 || len > MP_MAX_PACKET) {
		c->err = len == 0 ? "empty milter packet" : "milter packet over the size cap";
		return -1;
	}
	return (long)len;
}

/* run_packets - dispatch every complete packet in (p, n); *used: the bytes
 * they took. 0 go on, 1 quit, -1 error (a length alone is enough to refuse
 * a packet before its data). */
static int run_packets(mp_conn *c, const unsigned char *p, size_t n, size_t *used)
{
	size_t off = 0;
	int r = 0;
	while (r == 0 && n - off >= 5) {
		long len = packet_len(c, p + off);
		if (len < 0)
			return -1;
		if (n - off < 4 + (size_t)len)
			break;
		int cmd = p[off + 4];
		const unsigned char *d = p + off + 5;
		off += 4 + (size_t)len;
		r = dispatch(c, cmd, d, (size_t)len - 1);
		if (r == 0 && c->out_failed) {
			c->err = "reply over the output cap";
			r = -1;
		}
	}
	if (r == 0 && n - off >= 4 && packet_len(c, p + off) < 0)
		r = -1;
	*used = off;
	return r;
}

/* drop_input - between commands a connection holds no input buffer. */
static void drop_input(mp_conn *c)
{
	free(c->in);
	c->in = NULL;
	c->incap = 0;
}

int mp_received_at(mp_conn *c, size_t n, long long now)
{
	int was_partial = c->inlen > 0;
	c->inlen += n;
	size_t off = 0;
	int r = run_packets(c, c->in, c->inlen, &off);
	if (off > 0) {
		memmove(c->in, c->in + off, c->inlen - off);
		c->inlen -= off;
	}
	/* the rest began in this read unless it is the packet that was waiting */
	if (c->inlen > 0 && (!was_partial || off > 0))
		c->partial_since = now;
	if (c->inlen == 0)
		drop_input(c);
	return r;
}

/* copy_in - as much of (*p, *n) as the input buffer takes, consumed from
 * (*p, *n); the byte count, or -1 out of memory. */
static long copy_in(mp_conn *c, const unsigned char **p, size_t *n)
{
	size_t room;
	unsigned char *dst = mp_inbuf(c, &room);
	if (dst == NULL) {
		c->err = "out of memory";
		return -1;
	}
	size_t k = *n < room ? *n : room;
	memcpy(dst, *p, k);
	*p += k;
	*n -= k;
	return (long)k;
}

int mp_input_at(mp_conn *c, const unsigned char *p, size_t n, long long now)
{
	while (n > 0 && c->inlen > 0) {   /* complete the packet that waits */
		long k = copy_in(c, &p, &n);
		int r = k < 0 ? -1 : mp_received_at(c, (size_t)k, now);
		if (r != 0)
			return r;
	}
	size_t used = 0;
	int r = n > 0 ? run_packets(c, p, n, &used) : 0;
	if (r != 0 || used == n)
		return r;
	p += used;                         /* an incomplete packet: keep it */
	n -= used;
	c->partial_since = now;
	while (n > 0) {
		long k = copy_in(c, &p, &n);
		if (k < 0)
			return -1;
		c->inlen += (size_t)k;
	}
	return 0;
}

int mp_received(mp_conn *c, size_t n)
{
	return mp_received_at(c, n, 0);
}

long long mp_deadline(const mp_conn *c, long long now, long long timeout, long long idle)
{
	return c->inlen > 0 ? c->partial_since + timeout : now + idle;
}

int mp_feed(mp_conn *c, const unsigned char *p, size_t n)
{
	while (n > 0) {
		long k = copy_in(c, &p, &n);
		int r = k < 0 ? -1 : mp_received(c, (size_t)k);
		if (r != 0)
			return r;
	}
	return 0;
}

const unsigned char *mp_output(const mp_conn *c, size_t *len)
{
	static const unsigned char none[1];
	*len = c->outlen - c->outoff;
	return c->out ? c->out + c->outoff : none;
}

void mp_output_done(mp_conn *c, size_t n)
{
	c->outoff += n;
	if (c->outoff >= c->outlen) {   /* all written: give the buffer back */
		c->outoff = c->outlen = 0;
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
}

int mp_partial(const mp_conn *c)
{
	return c->inlen > 0;
}

const char *mp_error(const mp_conn *c)
{
	return c->err ? c->err : "no error";
}

int mp_in_message(const mp_conn *c)
{
	return __atomic_load_n(&c->in_msg, __ATOMIC_ACQUIRE);
}

unsigned long mp_pflags(const mp_conn *c)
{
	return c->pflags;
}

/* ---- modifications ---- */

/* in_eom - modifications are only valid while the eom handler runs. */
static int in_eom(const mp_conn *c)
{
	return c->in_msg && c->phase == PH_BODY + 1;
}

int mp_insheader(mp_conn *c, unsigned index, const char *name, const char *value)
{
	if (!in_eom(c) || !(c->actions & SMFIF_ADDHDRS) || name[0] == '\0')
		return -1;
	uint32_t ix = htonl(index);
	return put_packet(c, SMFIR_INSHEADER, &ix, 4, name, strlen(name) + 1, value, strlen(value) + 1);
}

int mp_chgheader(mp_conn *c, const char *name, unsigned index, const char *value)
{
	if (!in_eom(c) || !(c->actions & SMFIF_CHGHDRS) || name[0] == '\0')
		return -1;
	uint32_t ix = htonl(index);
	const char *v = value ? value : "";
	return put_packet(c, SMFIR_CHGHEADER, &ix, 4, name, strlen(name) + 1, v, strlen(v) + 1);
}

int mp_quarantine(mp_conn *c, const char *reason)
{
	if (!in_eom(c) || !(c->actions & SMFIF_QUARANTINE) || reason[0] == '\0')
		return -1;
	return put_packet(c, SMFIR_QUARANTINE, reason, strlen(reason) + 1, NULL, 0, NULL, 0);
}

/* printable - nonzero if s is printable ASCII (no CR/LF: one reply line). */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

int mp_setreply(mp_conn *c, const char *rcode, const char *xcode, const char *text)
{
	if (strlen(rcode) != 3 || (rcode[0] != '4' && rcode[0] != '5') ||
	    rcode[1] < '0' || rcode[1] > '9' || rcode[2] < '0' || rcode[2] > '9')
		return -1;
	if ((xcode && (strlen(xcode) > 32 || !printable(xcode))) ||
	    (text && (strlen(text) > 4000 || !printable(text))))
		return -1;
	size_t n = 3 + 1 + (xcode ? strlen(xcode) + 1 : 0) + (text ? strlen(text) : 0) + 1;
	char *r = malloc(n);
	if (r == NULL)
		return -1;
	size_t o = 0;
	memcpy(r, rcode, 3);
	o = 3;
	r[o++] = ' ';
	if (xcode) {
		memcpy(r + o, xcode, strlen(xcode));
		o += strlen(xcode);
		r[o++] = ' ';
	}
	if (text) {
		memcpy(r + o, text, strlen(text));
		o += strlen(text);
	}
	while (o > 0 && r[o - 1] == ' ')
		o--;
	r[o] = '\0';
	free(c->reply);
	c->reply = r;
	return 0;
}
