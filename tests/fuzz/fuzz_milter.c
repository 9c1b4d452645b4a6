/*
 * fuzz_milter - libFuzzer target: bytes from an MTA -> the milter protocol
 * layer (milter/mproto.c) with a handler that uses every call a real one
 * does (macros, header insert/change, quarantine, SMTP reply) and answers
 * end of message with an action picked from the input.
 *
 * The first input byte picks the read size (1..256 bytes per read), so
 * packet framing is tried at every boundary; its low bit picks the input
 * path: in place (mp_input_at, as engine.c reads) or through mp_feed. After
 * every read the output is drained, as the engine does. Checks: the output is well-formed packets;
 * after an error no further input is accepted.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../milter/mproto.h"

struct st { mp_conn *c; unsigned n; int open; };

static void *f_open(void *arg, mp_conn *c) { struct st *s = arg; s->c = c; s->open++; return s; }
static void f_close(void *p) { ((struct st *)p)->open--; }
static void f_refuse(void *p, const char *w) { (void)p; (void)w; }
/* act - mostly continue, sometimes an action that ends the message */
static enum mp_action act(struct st *s)
{
	static const enum mp_action a[] = { MP_CONTINUE, MP_CONTINUE, MP_CONTINUE, MP_CONTINUE,
		MP_CONTINUE, MP_CONTINUE, MP_REJECT, MP_ACCEPT };
	return a[s->n++ % 8];
}
static enum mp_action f_connect(void *p, const char *h, const char *ip) { (void)h; (void)ip; return act(p); }
static enum mp_action f_helo(void *p, const char *n) { (void)n; return act(p); }
static enum mp_action f_mail(void *p, const char *a)
{
	struct st *s = p;
	(void)a;
	(void)mp_macro(s->c, "i");
	(void)mp_macro(s->c, "{auth_authen}");
	return act(s);
}
static enum mp_action f_rcpt(void *p, const char *a) { (void)a; return act(p); }
static enum mp_action f_header(void *p, const char *n, const char *v, size_t l)
{
	(void)n;
	if (strlen(v) != l)
		abort();
	return act(p);
}
static enum mp_action f_eoh(void *p) { return act(p); }
static enum mp_action f_body(void *p, const unsigned char *d, size_t n) { (void)d; (void)n; return act(p); }
static enum mp_action f_eom(void *p)
{
	struct st *s = p;
	const char *i = mp_macro(s->c, "i");
	(void)mp_chgheader(s->c, "Authentication-Results", 1, NULL);
	(void)mp_insheader(s->c, 0, "X-Fuzz", i ? i : "none");
	(void)mp_quarantine(s->c, "held");
	(void)mp_setreply(s->c, s->n & 1 ? "550" : "451", "5.7.1", i);
	static const enum mp_action a[] = { MP_CONTINUE, MP_ACCEPT, MP_REJECT, MP_TEMPFAIL, MP_DISCARD };
	return a[s->n++ % 5];
}
static void f_abort(void *p) { (void)p; }

static const struct mp_handler H = {
	.need_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS,
	.want_actions = SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_QUARANTINE | SMFIF_SETSYMLIST,
	.want_proto = SMFIP_NR_CONN | SMFIP_NR_HELO | SMFIP_NR_MAIL | SMFIP_NR_RCPT |
		      SMFIP_NR_HDR | SMFIP_NR_EOH | SMFIP_NR_BODY | SMFIP_NOUNKNOWN | SMFIP_HDR_LEADSPC,
	.symlist = { [SMFIM_CONNECT] = "{client_addr} {daemon_name} j", [SMFIM_ENVFROM] = "i {auth_authen}",
		     [SMFIM_EOM] = "i" },
	.open = f_open, .close = f_close, .refuse = f_refuse, .connect = f_connect, .helo = f_helo,
	.mail = f_mail, .rcpt = f_rcpt, .header = f_header, .eoh = f_eoh, .body = f_body,
	.eom = f_eom, .abort = f_abort,
};

/* check_output - replies are whole packets with a non-zero length. */
static void check_output(mp_conn *c)
{
	size_t len, off = 0;
	const unsigned char *p = mp_output(c, &len);
	while (off < len) {
		if (len - off < 5)
			abort();
		uint32_t l;
		memcpy(&l, p + off, 4);
		l = ntohl(l);
		if (l == 0 || l > len - off - 4)
			abort();
		off += 4 + l;
	}
	mp_output_done(c, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t step = (size_t)data[0] + 1;
	int in_place = data[0] & 1;      /* engine.c's path (mp_input_at) or mp_feed */
	data++, size--;
	struct st s = { 0 };
	mp_conn *c = mp_new(&H, &s);
	if (c == NULL)
		return 0;
	int rc = 0;
	while (size > 0 && rc == 0) {
		size_t k = size < step ? size : step;
		rc = in_place ? mp_input_at(c, data, k, 0) : mp_feed(c, data, k);
		check_output(c);
		data += k;
		size -= k;
	}
	mp_free(c);
	if (s.open != 0)
		abort();     /* every open has its close */
	return 0;
}
