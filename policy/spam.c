/*
 * spam - the signal table and spam_evaluate(); see spam.h.
 *
 * A signal function looks at the precomputed facts in struct ctx and calls
 * hit() zero or more times; hit() applies the configured weight (spam.weights
 * overrides the table's default; weight 0 turns the signal off) and records
 * the signal. Facts shared by several signals (the parsed header fields, the
 * URL set, visible text sizes) are computed once before the table runs.
 * DNS is only used by the DNSBL and URIBL families, each query counted against
 * the message's budget and against spam.max_dns_queries.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>
#include "spam.h"
#include "format.h"
#include "dmarc.h"
#include "urls.h"
#include "buf.h"

#define SUBJECT_MAX 512           /* decoded Subject examined */
#define URIBL_DOMAINS_MAX 20      /* distinct URL domains looked up per zone */
#define DATE_FUTURE_SECS (12 * 3600)      /* SpamAssassin's DATE_IN_FUTURE starts at 12 h */
#define DATE_PAST_SECS (7 * 24 * 3600)    /* queues retry for 5 days; older is suspicious */
#define SPAM_DNS_FAILS 2          /* blocklist timeouts before the engine stops asking */
#define IMAGE_TEXT_MIN 200        /* visible characters (non-space) below which images dominate */

/* URL shortening services (spam.shorteners adds to them). */
static const char *const shorteners[] = {
	"bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "ow.ly", "is.gd", "buff.ly",
	"rebrand.ly", "cutt.ly", "shorturl.at", "tiny.cc", "rb.gy", "bl.ink", "s.id", "t.ly",
	"v.gd", "lnkd.in", "tr.im", "x.co", "shorte.st", "adf.ly", "bc.vc", "qr.ae", NULL };

/* File name extensions that run code when opened on common desktops. */
static const char *const exec_ext[] = {
	"exe", "scr", "pif", "com", "bat", "cmd", "vbs", "vbe", "js", "jse", "wsf", "wsh", "hta",
	"msi", "msp", "jar", "lnk", "cpl", "ps1", "reg", "dll", "iso", "img", "vhd", "apk", NULL };
/* Extensions of documents people expect to open: "invoice.pdf.exe" hides behind them. */
static const char *const doc_ext[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "rtf", "jpg", "jpeg", "png",
	"gif", "zip", "htm", "html", "csv", "odt", NULL };

struct ctx {
	const struct spam_input *in;
	const struct spam_settings *set;
	struct spam_outcome *out;
	const struct format_outcome *fo; /* the session's, or fo_own */
	struct format_outcome *fo_own;   /* computed here when the caller has none */
	char from_org[256];           /* organizational domain of the From domain */
	char subject[SUBJECT_MAX];
	size_t subject_len;
	int has_subject;
	const struct mime_facts *mf;  /* NULL without a body walk */
	struct url_set *urls;
	unsigned long plain_text;     /* visible non-space bytes of text/plain */
	unsigned dns_max;
	unsigned dns_fails;           /* temporary failures of blocklist lookups */
	int dns_capped;
};

struct spam_def {
	const char *name;
	double weight;
	int inbound_only;             /* connection facts: meaningless for internal clients */
	void (*fn)(struct ctx *, const struct spam_def *);
	const char *doc;
};

/* The compiled spam settings (spam_settings_new): weights resolved per
 * table row, the spam.weights items parsed once (for the zone families,
 * whose names are only known when a zone answers), and the lists and limits
 * the signals read. */
struct spam_weight {
	const char *name;             /* in the configuration snapshot */
	size_t len;                   /* of the name, before '=' */
	double weight;
};

/* One spam.dnsbl_zones or spam.uribl_zones item, parsed at load (zone_item). */
struct spam_zone {
	int bad;                      /* zone_item refused it (spam_conf_check does too) */
	char zone[SPAM_ZONE_MAX + 1];
	char code[32];
	double weight;
	int has_weight;
};

struct spam_settings {
	const conf *conf;             /* outlives the settings (the policy holds it) */
	double *row_weight;           /* NDEFS: configured or default weight per table row */
	struct spam_weight *items;    /* spam.weights, in order */
	size_t nitems;
	const char *const *dnsbl, *const *uribl, *const *shorteners, *const *local_names,
		*const *egress;
	size_t ndnsbl, nuribl, nshorteners, nlocal_names, negress;
	struct spam_zone *dnsbl_zones, *uribl_zones;  /* ndnsbl, nuribl items, parsed */
	long many_recipients;
	unsigned max_dns_queries;
	size_t max_urls;
};

/* named_weight - the configured weight for a signal name (the first
 * spam.weights item naming it), else def; the items were parsed at load. */
static double named_weight(const struct spam_settings *st, const char *name, double def)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i < st->nitems; i++)
		if (st->items[i].len == nl && memcmp(st->items[i].name, name, nl) == 0)
			return st->items[i].weight;
	return def;
}

/* hit - record one signal with its (resolved) weight, unless the weight
 * turns it off. */
static void hit(struct ctx *c, const char *name, double w, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void hit(struct ctx *c, const char *name, double w, const char *fmt, ...)
{
	if (w == 0)
		return;
	struct spam_outcome *o = c->out;
	for (size_t i = 0; i < o->nsignals; i++)
		if (strcmp(o->signals[i].name, name) == 0)
			return;              /* one signal counts once */
	o->score += w;
	if (o->nsignals >= SPAM_MAX_SIGNALS) {
		o->more = 1;
		return;
	}
	struct spam_signal *s = &o->signals[o->nsignals++];
	str_copy(s->name, sizeof(s->name), name, strlen(name));
	s->weight = w;
	char tmp[SPAM_REASON_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	str_printable(s->reason, sizeof(s->reason), tmp, strlen(tmp));
}

/* HIT - a table signal under its own name and default weight. */
static size_t row_of(const struct spam_def *d);
#define HIT(c, d, ...) hit((c), (d)->name, (c)->set->row_weight[row_of(d)], __VA_ARGS__)

/* org_domain - the organizational domain of a host name (Public Suffix List). */
static void org_domain(const char *h, char *out, size_t outsz)
{
	if (dmarc_psl_org_domain(h, strlen(h), out, outsz) < 0)
		str_copy(out, outsz, h, strlen(h));
}

/* ends_with_domain - host is domain or a subdomain of it (ASCII case-insensitive). */
static int ends_with_domain(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);
	while (dl && domain[dl - 1] == '.')
		dl--;
	if (dl == 0 || hl < dl)
		return 0;
	return dom_at_or_below(host, hl, domain, dl);
}

/* spam_query - one A lookup within the engine's cap; NULL when not sent. */
static dns_answer *spam_query(struct ctx *c, const char *name)
{
	if (c->in->dns == NULL)
		return NULL;
	if (c->out->dns_queries >= c->dns_max || c->dns_capped) {
		c->dns_capped = 1;
		return NULL;
	}
	c->out->dns_queries++;
	dns_answer *a = dns_query(c->in->dns, c->in->budget, name, strlen(name), DNS_T_A);
	if (a && a->status == DNS_BUDGET)
		c->dns_capped = 1;
	/* a blocklist that times out would stall the message once per URL domain:
	 * after SPAM_DNS_FAILS temporary failures no more lookups are made */
	if (a && a->status == DNS_TEMPFAIL && ++c->dns_fails >= SPAM_DNS_FAILS)
		c->dns_capped = 1;
	return a;
}

/* listed_code - the 127.0.0.0/8 answer codes of a blocklist reply, as text
 * in codes[]; 127.255.255.0/24 are the lists' error codes (query refused), not listings. */
static size_t listed_codes(const dns_answer *a, char codes[][16], size_t max)
{
	size_t n = 0;
	if (a == NULL || a->status != DNS_OK)
		return 0;
	for (size_t i = 0; i < a->count && n < max; i++) {
		const unsigned char *d = a->rr[i].data;
		if (a->rr[i].len != 4 || d[0] != 127 || (d[1] == 255 && d[2] == 255))
			continue;
		snprintf(codes[n++], 16, "%u.%u.%u.%u", d[0], d[1], d[2], d[3]);
	}
	return n;
}

/* ------------------------------------------------------------ connection */

static void sig_rdns_missing(struct ctx *c, const struct spam_def *d)
{
	const struct iprev_outcome *ip = c->in->iprev;
	if (ip && ip->result == AR_PERMERROR)
		HIT(c, d, "no reverse DNS (PTR) for %s", ip->ip);
}

static void sig_rdns_unconfirmed(struct ctx *c, const struct spam_def *d)
{
	const struct iprev_outcome *ip = c->in->iprev;
	if (ip && ip->result == AR_FAIL)
		HIT(c, d, "%s: %s", ip->ip, ip->problem);
}

/* helo_ip - the address a HELO names: bare IP (brackets 0) or literal (1); -1 if none. */
static int helo_ip(const char *h, char *ip, size_t ipsz)
{
	unsigned char a[16];
	size_t n = strlen(h);
	if (n > 2 && h[0] == '[' && h[n - 1] == ']') {
		const char *s = h + 1;
		size_t l = n - 2;
		if (l > 5 && strncasecmp(s, "IPv6:", 5) == 0)
			s += 5, l -= 5;
		if (str_copy(ip, ipsz, s, l) < 0 || dns_ip_parse(ip, a) == 0)
			return -1;
		return 1;
	}
	if (str_copy(ip, ipsz, h, n) < 0 || dns_ip_parse(ip, a) == 0)
		return -1;
	return 0;
}

static void sig_helo_bare_ip(struct ctx *c, const struct spam_def *d)
{
	char ip[64];
	if (c->in->helo[0] && helo_ip(c->in->helo, ip, sizeof(ip)) == 0)
		HIT(c, d, "HELO %s is an IP address, not a name or [address literal]", c->in->helo);
}

static void sig_helo_not_fqdn(struct ctx *c, const struct spam_def *d)
{
	const char *h = c->in->helo;
	char ip[64];
	size_t n = strlen(h);
	if (n == 0 || helo_ip(h, ip, sizeof(ip)) >= 0)
		return;
	if (n && h[n - 1] == '.')
		n--;
	if (!addr_domain_valid(h, n) || memchr(h, '.', n) == NULL)
		HIT(c, d, "HELO %s is not a fully qualified domain name", h);
}

/* is_ours - a name or address in spam.local_names, milter.egress_addresses,
 * or this host's name. */
static int is_ours(const struct ctx *c, const char *v)
{
	size_t vl = strlen(v);
	while (vl && v[vl - 1] == '.')
		vl--;
	if (vl == 0)
		return 0;
	const char *me = c->in->our_name ? c->in->our_name : "";
	if (mem_caseeq(v, vl, me, strlen(me)))
		return 1;

	unsigned char a[16], b[16];
	char vz[256];
	str_copy(vz, sizeof(vz), v, vl);
	int vip = dns_ip_parse(vz, a);
	for (size_t k = 0; k < 2; k++) {
		const char *const *l = k ? c->set->egress : c->set->local_names;
		size_t n = k ? c->set->negress : c->set->nlocal_names;
		for (size_t i = 0; i < n; i++) {
			if (vip && dns_ip_parse(l[i], b) && memcmp(a, b, 16) == 0)
				return 1;
			size_t ll = strlen(l[i]);
			while (ll && l[i][ll - 1] == '.')
				ll--;
			if (!vip && mem_caseeq(v, vl, l[i], ll))
				return 1;
		}
	}
	return 0;
}

static void sig_helo_ours(struct ctx *c, const struct spam_def *d)
{
	const char *h = c->in->helo;
	char ip[64];
	if (h[0] == '\0')
		return;
	if (helo_ip(h, ip, sizeof(ip)) >= 0 ? is_ours(c, ip) && strcmp(ip, c->in->client_ip) != 0
	                                    : is_ours(c, h))
		HIT(c, d, "HELO %s claims to be this host", h);
}

/* zone_item - split "zone[:127.0.0.x][=weight]"; 0 ok, -1 malformed. */
static int zone_item(const char *item, char *zone, size_t zsz, char *code, size_t csz, double *w, int *has_w)
{
	const char *eq = strchr(item, '=');
	size_t zl = eq ? (size_t)(eq - item) : strlen(item);
	const char *colon = memchr(item, ':', zl);
	*has_w = 0;
	code[0] = '\0';
	if (eq) {
		char *end;
		*w = strtod(eq + 1, &end);
		if (*end != '\0' || end == eq + 1 || *w < -100 || *w > 100)
			return -1;
		*has_w = 1;
	}
	if (colon) {
		if (str_copy(code, csz, colon + 1, zl - (size_t)(colon - item) - 1) < 0)
			return -1;
		unsigned char a[16];
		if (dns_ip_parse(code, a) != 4)
			return -1;
		zl = (size_t)(colon - item);
	}
	while (zl && item[zl - 1] == '.')
		zl--;
	if (zl == 0 || zl > SPAM_ZONE_MAX || str_copy(zone, zsz, item, zl) < 0 ||
	    !addr_domain_valid(zone, zl))
		return -1;
	str_lower(zone);
	return 0;
}

/* zone_get - a parsed zone item, as zone_item would give it. */
static int zone_get(const struct spam_zone *z, char *zone, size_t zsz, char *code, size_t csz,
                    double *w, int *has_w)
{
	if (z->bad)
		return -1;
	str_copy(zone, zsz, z->zone, strlen(z->zone));
	str_copy(code, csz, z->code, strlen(z->code));
	*w = z->weight;
	*has_w = z->has_weight;
	return 0;
}

/* zones_parse - every item of a zone list through zone_item, once. */
static struct spam_zone *zones_parse(const char *const *l, size_t n)
{
	struct spam_zone *z = calloc(n ? n : 1, sizeof(*z));
	for (size_t i = 0; z && i < n; i++)
		z[i].bad = zone_item(l[i], z[i].zone, sizeof(z[i].zone), z[i].code, sizeof(z[i].code),
		                     &z[i].weight, &z[i].has_weight) < 0;
	return z;
}

/* sig_dnsbl - the client address in each configured DNS blocklist
 * (spam.dnsbl_zones); the weight of a zone is the largest weight of the
 * return codes it answered, or the zone's weight when it maps no codes. */
static void sig_dnsbl(struct ctx *c, const struct spam_def *d)
{
	size_t n = c->set->ndnsbl;
	unsigned char a[16];
	if (n == 0 || dns_ip_parse(c->in->client_ip, a) == 0)
		return;
	char done[SPAM_MAX_ZONES][SPAM_ZONE_MAX + 1];
	size_t ndone = 0;
	for (size_t i = 0; i < n && ndone < SPAM_MAX_ZONES; i++) {
		char zone[SPAM_ZONE_MAX + 1], code[32], name[SPAM_NAME_MAX];
		double w;
		int has_w;
		if (zone_get(&c->set->dnsbl_zones[i], zone, sizeof(zone), code, sizeof(code), &w, &has_w) < 0)
			continue;
		int seen = 0;
		for (size_t k = 0; k < ndone; k++)
			seen |= strcmp(done[k], zone) == 0;
		if (seen)
			continue;
		memcpy(done[ndone++], zone, sizeof(zone));
		snprintf(name, sizeof(name), "%s.%s", d->name, zone);
		if (named_weight(c->set, name, 1) == 0)
			continue;            /* turned off: no query */
		char q[400];
		if (iprev_reverse_name(c->in->client_ip, zone, q, sizeof(q)) == 0)
			continue;
		dns_answer *an = spam_query(c, q);
		char codes[8][16];
		size_t nc = listed_codes(an, codes, 8);
		dns_answer_free(an);
		if (nc == 0)
			continue;
		/* the weight: mapped codes of this zone, else the zone's own weight */
		double best = 0;
		int mapped = 0, matched = 0;
		const char *which = codes[0];
		double zw = d->weight;
		for (size_t k = 0; k < n; k++) {
			char z2[SPAM_ZONE_MAX + 1], c2[32];
			double w2;
			int hw2;
			if (zone_get(&c->set->dnsbl_zones[k], z2, sizeof(z2), c2, sizeof(c2), &w2, &hw2) < 0 ||
			    strcmp(z2, zone) != 0)
				continue;
			if (c2[0] == '\0') {
				if (hw2)
					zw = w2;
				continue;
			}
			mapped = 1;
			for (size_t j = 0; j < nc; j++)
				if (strcmp(codes[j], c2) == 0 && (!matched || (hw2 ? w2 : d->weight) > best)) {
					best = hw2 ? w2 : d->weight;
					which = codes[j];
					matched = 1;
				}
		}
		if (mapped && !matched)
			continue;            /* only the listed codes count for this zone */
		hit(c, name, named_weight(c->set, name, mapped ? best : zw), "client %s listed in %s (%s)", c->in->client_ip, zone, which);
	}
}

/* --------------------------------------------------------------- headers */

static void sig_date_missing(struct ctx *c, const struct spam_def *d)
{
	if (c->fo->date_status == FORMAT_DATE_MISSING)
		HIT(c, d, "no Date field");
}

static void sig_date_invalid(struct ctx *c, const struct spam_def *d)
{
	if (c->fo->date_status == FORMAT_DATE_INVALID)
		HIT(c, d, "the Date field is not an RFC 5322 date");
}

static void sig_date_future(struct ctx *c, const struct spam_def *d)
{
	if (c->fo->date_status == FORMAT_DATE_OK && c->fo->date > c->in->now + DATE_FUTURE_SECS)
		HIT(c, d, "Date is %.0f hours in the future", (double)(c->fo->date - c->in->now) / 3600);
}

static void sig_date_past(struct ctx *c, const struct spam_def *d)
{
	if (c->fo->date_status == FORMAT_DATE_OK && c->fo->date < c->in->now - DATE_PAST_SECS)
		HIT(c, d, "Date is %.0f days in the past", (double)(c->in->now - c->fo->date) / 86400);
}

static void sig_msgid_missing(struct ctx *c, const struct spam_def *d)
{
	if (c->fo->msgid_status == FORMAT_MSGID_MISSING)
		HIT(c, d, "no Message-ID field");
}

static void sig_msgid_invalid(struct ctx *c, const struct spam_def *d)
{
	if (c->fo->msgid_status == FORMAT_MSGID_INVALID)
		HIT(c, d, "Message-ID is not one valid msg-id");
}

static void sig_to_missing(struct ctx *c, const struct spam_def *d)
{
	if (hdr_find(c->in->hdrs, "To", 0) == NULL)
		HIT(c, d, "no To field");
}

static void sig_many_rcpts(struct ctx *c, const struct spam_def *d)
{
	size_t n = 0;
	struct addr_list *al = malloc(sizeof(*al));
	if (al == NULL)
		return;
	static const char *const fields[] = { "To", "Cc" };
	for (size_t f = 0; f < 2; f++)
		for (size_t i = 0; i < 8; i++) {
			const struct hdr_field *h = hdr_find(c->in->hdrs, fields[f], i);
			if (h == NULL)
				break;
			n += addr_parse_list(h->unfolded, h->ulen, al) + (al->more ? 1 : 0);
		}
	free(al);
	if (c->in->nrcpt > n)
		n = c->in->nrcpt;
	long lim = c->set->many_recipients;
	if (lim > 0 && n > (size_t)lim)
		HIT(c, d, "%zu recipients (more than %ld)", n, lim);
}

/* domain_in_text - the domain of the first "x@domain" in text, lowercased; 0 ok. */
static int domain_in_text(const char *t, char *dom, size_t dsz)
{
	const char *at = strchr(t, '@');
	while (at) {
		size_t j = 0;
		for (const char *p = at + 1; *p && (isalnum((unsigned char)*p) || *p == '.' || *p == '-') && j + 1 < dsz; p++)
			dom[j++] = (char)tolower((unsigned char)*p);
		while (j && dom[j - 1] == '.')
			j--;
		dom[j] = '\0';
		if (at > t && isalnum((unsigned char)at[-1]) && strchr(dom, '.'))
			return 0;
		at = strchr(at + 1, '@');
	}
	return -1;
}

static void sig_from_display_address(struct ctx *c, const struct spam_def *d)
{
	for (size_t i = 0; i < c->fo->from.count; i++) {
		const struct addr *a = &c->fo->from.a[i];
		char disp[ADDR_DISPLAY_MAX * 2], dom[256], org[256], forg[256];
		size_t l = spam_decode_2047(a->display, strlen(a->display), disp, sizeof(disp) - 1);
		disp[l] = '\0';
		if (a->domain[0] == '\0' || domain_in_text(disp, dom, sizeof(dom)) < 0)
			continue;
		org_domain(dom, org, sizeof(org));
		org_domain(a->domain, forg, sizeof(forg));
		if (strcmp(org, forg) != 0) {
			HIT(c, d, "From display name shows an address at %s, the address is at %s", dom, a->domain);
			return;
		}
	}
}

static void sig_reply_to_other(struct ctx *c, const struct spam_def *d)
{
	const struct hdr_field *h = hdr_find(c->in->hdrs, "Reply-To", 0);
	if (!c->in->bulk || h == NULL || c->from_org[0] == '\0')
		return;
	struct addr_list *al = malloc(sizeof(*al));
	if (al == NULL)
		return;
	addr_parse_list(h->unfolded, h->ulen, al);
	for (size_t i = 0; i < al->count; i++) {
		char org[256];
		if (al->a[i].domain[0] == '\0')
			continue;
		org_domain(al->a[i].domain, org, sizeof(org));
		if (strcmp(org, c->from_org) != 0) {
			HIT(c, d, "bulk mail with Reply-To at %s, From at %s", al->a[i].domain, c->from_org);
			break;
		}
	}
	free(al);
}

static void sig_subject_caps(struct ctx *c, const struct spam_def *d)
{
	size_t letters = 0, upper = 0;
	for (size_t i = 0; i < c->subject_len; i++) {
		unsigned char ch = (unsigned char)c->subject[i];
		if (isalpha(ch) && ch < 128) {
			letters++;
			upper += isupper(ch) != 0;
		}
	}
	/* short subjects ("FYI", "RE: SALE") are often capitals for good reason */
	if (letters >= 10 && upper * 10 >= letters * 9)
		HIT(c, d, "the Subject is in capitals");
}

static void sig_subject_punct(struct ctx *c, const struct spam_def *d)
{
	size_t bang = 0, run = 0, maxrun = 0, dollars = 0;
	for (size_t i = 0; i < c->subject_len; i++) {
		char ch = c->subject[i];
		bang += ch == '!';
		dollars += ch == '$';
		run = (ch == '!' || ch == '?') ? run + 1 : 0;
		if (run > maxrun)
			maxrun = run;
	}
	if (bang >= 3 || maxrun >= 3 || dollars >= 3)
		HIT(c, d, "the Subject has excessive punctuation (%zu '!', %zu '$')", bang, dollars);
}

/* ------------------------------------------------------------------ body */

static void sig_html_only(struct ctx *c, const struct spam_def *d)
{
	if (c->mf && c->mf->html_parts && !c->mf->text_parts)
		HIT(c, d, "HTML without a text/plain alternative");
}

static void sig_image_heavy(struct ctx *c, const struct spam_def *d)
{
	if (c->mf == NULL)
		return;
	unsigned imgs = c->urls ? c->urls->img_tags : 0;
	for (size_t i = 0; i < c->mf->nparts; i++)
		imgs += strncmp(c->mf->parts[i].type, "image/", 6) == 0 && !c->mf->parts[i].attachment;
	unsigned long text = c->mf->html_parts ? c->urls->html_text : c->plain_text;
	if (imgs && text < IMAGE_TEXT_MIN)
		HIT(c, d, "%u images and only %lu characters of text", imgs, text);
}

static void sig_url_mismatch(struct ctx *c, const struct spam_def *d)
{
	for (size_t i = 0; c->urls && i < c->urls->count; i++) {
		const struct url_item *u = &c->urls->items[i];
		if (u->text_host[0] == '\0' || u->host[0] == '\0')
			continue;
		char a[256], b[256];
		org_domain(u->text_host, a, sizeof(a));
		org_domain(u->host, b, sizeof(b));
		if (strcmp(a, b) != 0) {
			HIT(c, d, "a link shows %s but goes to %s", u->text_host, u->host);
			return;
		}
	}
}

static void sig_url_shortener(struct ctx *c, const struct spam_def *d)
{
	const char *const *l = c->set->shorteners;
	size_t nl = c->set->nshorteners;
	for (size_t i = 0; c->urls && i < c->urls->count; i++) {
		const char *h = c->urls->items[i].host;
		if (i > 0 && strcmp(h, c->urls->items[i - 1].host) == 0)
			continue;   /* a newsletter's links mostly share one host: checked already */
		for (size_t k = 0; shorteners[k]; k++)
			if (ends_with_domain(h, shorteners[k])) {
				HIT(c, d, "link through the URL shortener %s", shorteners[k]);
				return;
			}
		for (size_t k = 0; k < nl; k++)
			if (ends_with_domain(h, l[k])) {
				HIT(c, d, "link through the URL shortener %s", l[k]);
				return;
			}
	}
}

static void sig_url_ip(struct ctx *c, const struct spam_def *d)
{
	for (size_t i = 0; c->urls && i < c->urls->count; i++)
		if (c->urls->items[i].ip) {
			HIT(c, d, "link to an IP address: %s", c->urls->items[i].host);
			return;
		}
}

/* sig_uribl - the organizational domains of the URLs in each URL domain
 * blocklist (spam.uribl_zones: "zone[=weight]"); queried as DOMAIN.ZONE. */
static void sig_uribl(struct ctx *c, const struct spam_def *d)
{
	size_t n = c->set->nuribl;
	if (n == 0 || c->urls == NULL || c->urls->count == 0)
		return;
	char (*doms)[256] = calloc(URIBL_DOMAINS_MAX, 256);
	if (doms == NULL)
		return;
	size_t nd = 0;
	for (size_t i = 0; i < c->urls->count && nd < URIBL_DOMAINS_MAX; i++) {
		const struct url_item *u = &c->urls->items[i];
		if (u->ip || u->host[0] == '\0' || !addr_domain_valid(u->host, strlen(u->host)))
			continue;
		char org[256];
		org_domain(u->host, org, sizeof(org));
		int seen = 0;
		for (size_t k = 0; k < nd; k++)
			seen |= strcmp(doms[k], org) == 0;
		if (!seen)
			memcpy(doms[nd++], org, sizeof(org));
	}
	for (size_t z = 0; z < n && z < SPAM_MAX_ZONES; z++) {
		char zone[SPAM_ZONE_MAX + 1], code[32], name[SPAM_NAME_MAX];
		double w;
		int has_w;
		if (zone_get(&c->set->uribl_zones[z], zone, sizeof(zone), code, sizeof(code), &w, &has_w) < 0)
			continue;
		snprintf(name, sizeof(name), "%s.%s", d->name, zone);
		if (named_weight(c->set, name, has_w ? w : d->weight) == 0)
			continue;
		for (size_t k = 0; k < nd; k++) {
			char q[600], codes[4][16];
			snprintf(q, sizeof(q), "%s.%s", doms[k], zone);
			dns_answer *an = spam_query(c, q);
			size_t nc = listed_codes(an, codes, 4);
			int failed = an == NULL || an->status == DNS_TEMPFAIL;
			dns_answer_free(an);
			if (failed)
				break;           /* this zone is not answering (or the cap is reached) */
			if (nc && (code[0] == '\0' || strcmp(codes[0], code) == 0)) {
				hit(c, name, named_weight(c->set, name, has_w ? w : d->weight), "URL domain %s listed in %s (%s)", doms[k], zone, codes[0]);
				break;
			}
		}
	}
	free(doms);
}

/* ext_in - the extension after the last '.' of (name, up to end) is in list. */
static int ext_in(const char *name, size_t end, const char *const *list)
{
	size_t dot = end;
	while (dot > 0 && name[dot - 1] != '.')
		dot--;
	if (dot == 0)
		return -1;
	for (size_t i = 0; list[i]; i++)
		if (mem_caseeq(name + dot, end - dot, list[i], strlen(list[i])))
			return (int)dot;
	return -1;
}

static void sig_exec_attachment(struct ctx *c, const struct spam_def *d)
{
	for (size_t i = 0; c->mf && i < c->mf->nparts; i++) {
		const char *f = c->mf->parts[i].filename;
		size_t n = strlen(f);
		while (n && (f[n - 1] == ' ' || f[n - 1] == '.'))   /* Windows drops them */
			n--;
		if (n && ext_in(f, n, exec_ext) >= 0) {
			HIT(c, d, "executable attachment %s", f);
			return;
		}
	}
}

static void sig_double_ext(struct ctx *c, const struct spam_def *d)
{
	for (size_t i = 0; c->mf && i < c->mf->nparts; i++) {
		const char *f = c->mf->parts[i].filename;
		size_t n = strlen(f);
		while (n && (f[n - 1] == ' ' || f[n - 1] == '.'))
			n--;
		int dot = n ? ext_in(f, n, exec_ext) : -1;
		if (dot > 1) {
			size_t inner = (size_t)dot - 1;          /* the '.' before the executable extension */
			while (inner && f[inner - 1] == ' ')
				inner--;
			if (ext_in(f, inner, doc_ext) >= 0) {
				HIT(c, d, "attachment %s hides an executable behind a document extension", f);
				return;
			}
		}
	}
}

static void sig_no_unsub_link(struct ctx *c, const struct spam_def *d)
{
	if (c->in->bulk && c->mf && (c->urls == NULL || !c->urls->unsub_link))
		HIT(c, d, "bulk mail without a visible unsubscribe link in the body");
}

/* ---------------------------------------------------------------- limits */

static void sig_lim_bytes(struct ctx *c, const struct spam_def *d)
{
	if (c->mf && c->mf->over_bytes)
		HIT(c, d, "body larger than spam.max_scan_bytes; only the start was examined");
}

static void sig_lim_parts(struct ctx *c, const struct spam_def *d)
{
	if (c->mf && c->mf->over_parts)
		HIT(c, d, "more MIME parts than spam.max_mime_parts");
}

static void sig_lim_depth(struct ctx *c, const struct spam_def *d)
{
	if (c->mf && c->mf->over_depth)
		HIT(c, d, "MIME nesting deeper than spam.max_mime_depth");
}

static void sig_lim_text(struct ctx *c, const struct spam_def *d)
{
	if (c->mf && c->mf->text_truncated)
		HIT(c, d, "more decoded text than is examined");
}

static void sig_lim_urls(struct ctx *c, const struct spam_def *d)
{
	if (c->urls && c->urls->more)
		HIT(c, d, "more URLs than spam.max_urls");
}

static void sig_lim_dns(struct ctx *c, const struct spam_def *d)
{
	if (c->dns_capped)
		HIT(c, d, "blocklist lookups stopped: %s", c->dns_fails >= SPAM_DNS_FAILS ?
		    "blocklists failing temporarily" : "spam.max_dns_queries or the DNS budget reached");
}

static void sig_malformed(struct ctx *c, const struct spam_def *d)
{
	if (c->mf && c->mf->malformed)
		HIT(c, d, "malformed MIME: %s (%u problems)", c->mf->malformed_why, c->mf->malformed);
}

/* The signal table: name, default weight, inbound only, function, meaning.
 * Weights are on SpamAssassin's scale (5 = spam); the defaults were chosen on
 * the labelled corpus in tests/data/spam (docs/SIGNALS.md). The dnsbl and
 * uribl rows are families: their signals are named spam.dnsbl.ZONE and
 * spam.uribl.ZONE, and the row's weight is the default per zone. */
static const struct spam_def table[] = {
	{ "spam.rdns.missing", 1.5, 1, sig_rdns_missing,
	  "the client address has no reverse DNS (iprev permerror)" },
	{ "spam.rdns.not_confirmed", 1.0, 1, sig_rdns_unconfirmed,
	  "the reverse DNS name does not resolve back to the client address (iprev fail)" },
	{ "spam.helo.bare_ip", 2.0, 1, sig_helo_bare_ip,
	  "HELO is an IP address without the brackets of an address literal (RFC 5321 4.1.3)" },
	{ "spam.helo.not_fqdn", 1.5, 1, sig_helo_not_fqdn,
	  "HELO is not a fully qualified domain name (no dot, or invalid characters)" },
	{ "spam.helo.ours", 3.0, 1, sig_helo_ours,
	  "HELO claims this host's name or one of its addresses (spam.local_names, milter.egress_addresses)" },
	{ "spam.dnsbl", 3.0, 1, sig_dnsbl,
	  "the client address is listed in the DNS blocklist ZONE (spam.dnsbl_zones)" },
	{ "spam.header.date_missing", 1.0, 0, sig_date_missing, "no Date field" },
	{ "spam.header.date_invalid", 1.0, 0, sig_date_invalid, "the Date field is not an RFC 5322 date" },
	{ "spam.header.date_future", 2.0, 0, sig_date_future, "Date more than 12 hours in the future" },
	{ "spam.header.date_past", 1.0, 0, sig_date_past, "Date more than 7 days in the past" },
	{ "spam.header.message_id_missing", 1.0, 0, sig_msgid_missing, "no Message-ID field" },
	{ "spam.header.message_id_invalid", 1.0, 0, sig_msgid_invalid, "Message-ID is not one valid msg-id" },
	{ "spam.header.to_missing", 1.0, 0, sig_to_missing, "no To field" },
	{ "spam.header.many_recipients", 1.0, 0, sig_many_rcpts,
	  "more recipients (envelope, or To and Cc addresses) than spam.many_recipients" },
	{ "spam.from.display_address", 2.5, 0, sig_from_display_address,
	  "the From display name contains an address at another organizational domain than the From address" },
	{ "spam.reply_to.other_domain", 1.0, 0, sig_reply_to_other,
	  "bulk mail whose Reply-To is at another organizational domain than From" },
	{ "spam.subject.all_caps", 1.5, 0, sig_subject_caps,
	  "the Subject is in capitals (at least 10 letters, 90% upper case)" },
	{ "spam.subject.punctuation", 1.0, 0, sig_subject_punct,
	  "the Subject has three or more '!', a run of three '!'/'?', or three '$'" },
	{ "spam.body.html_only", 0.5, 0, sig_html_only, "HTML body without a text/plain alternative" },
	{ "spam.body.image_heavy", 1.5, 0, sig_image_heavy,
	  "inline images with less than 200 characters (non-space) of visible text" },
	{ "spam.url.text_mismatch", 3.0, 0, sig_url_mismatch,
	  "a link's text shows one domain while its href goes to another organizational domain" },
	{ "spam.url.shortener", 1.5, 0, sig_url_shortener,
	  "a link through a URL shortener (built-in list plus spam.shorteners)" },
	{ "spam.url.ip_address", 2.5, 0, sig_url_ip, "a link to a bare IP address" },
	{ "spam.uribl", 4.0, 0, sig_uribl,
	  "a URL's organizational domain is listed in the domain blocklist ZONE (spam.uribl_zones)" },
	{ "spam.attachment.executable", 4.0, 0, sig_exec_attachment,
	  "an attachment whose name ends in an executable extension (.exe, .scr, .js, .vbs, ...)" },
	{ "spam.attachment.double_extension", 3.0, 0, sig_double_ext,
	  "an attachment named like a document with an executable extension after it (invoice.pdf.exe)" },
	{ "spam.body.no_unsubscribe_link", 1.5, 0, sig_no_unsub_link,
	  "bulk mail without a visible unsubscribe or opt-out link in the body (Gmail requires one besides the header)" },
	{ "spam.mime.malformed", 1.0, 0, sig_malformed,
	  "broken MIME: bad base64, a multipart without boundary or close delimiter, endless part headers" },
	{ "spam.limits.scan_bytes", 0.1, 0, sig_lim_bytes,
	  "the body is larger than spam.max_scan_bytes; the rest was not examined" },
	{ "spam.limits.mime_parts", 1.0, 0, sig_lim_parts, "more MIME parts than spam.max_mime_parts" },
	{ "spam.limits.mime_depth", 1.0, 0, sig_lim_depth, "MIME nesting deeper than spam.max_mime_depth" },
	{ "spam.limits.text", 0.1, 0, sig_lim_text,
	  "more decoded text than spam.max_text_bytes; the rest was not examined" },
	{ "spam.limits.urls", 0.5, 0, sig_lim_urls, "more distinct URLs than spam.max_urls" },
	{ "spam.limits.dns", 0.5, 0, sig_lim_dns,
	  "blocklist lookups stopped by spam.max_dns_queries, the message's DNS budget, or two lookups failing temporarily" },
};

#define NDEFS (sizeof(table) / sizeof(table[0]))

static size_t row_of(const struct spam_def *d)
{
	return (size_t)(d - table);
}

/* spam_table_row - row i of the table as documentation; -1 past the end. */
int spam_table_row(size_t i, struct spam_def_info *out)
{
	if (i >= NDEFS)
		return -1;
	out->name = table[i].name;
	out->weight = table[i].weight;
	out->doc = table[i].doc;
	out->family = table[i].fn == sig_dnsbl || table[i].fn == sig_uribl;
	out->inbound_only = table[i].inbound_only;
	return 0;
}

int spam_has(const struct spam_outcome *o, const char *name)
{
	for (size_t i = 0; i < o->nsignals; i++)
		if (strcmp(o->signals[i].name, name) == 0)
			return 1;
	return 0;
}

/* spam_decode_2047 - =?charset?B|Q?text?= words decoded, other text copied. */
size_t spam_decode_2047(const char *p, size_t n, char *out, size_t outsz)
{
	size_t j = 0, i = 0;
	int last_word = 0;           /* the previous token was an encoded-word */
	if (outsz == 0)
		return 0;
	while (i < n && j + 1 < outsz) {
		if (i + 1 < n && p[i] == '=' && p[i + 1] == '?') {
			/* =?charset?E?text?= */
			const char *s = p + i + 2, *end = p + n;
			const char *q1 = memchr(s, '?', (size_t)(end - s));
			if (q1 && q1 + 3 < end && q1[2] == '?') {
				char enc = (char)toupper((unsigned char)q1[1]);
				const char *t = q1 + 3, *te = t;
				while (te + 1 < end && !(te[0] == '?' && te[1] == '='))
					te++;
				if (te + 1 < end && (enc == 'B' || enc == 'Q')) {
					unsigned acc = 0;
					int bits = 0;
					for (const char *x = t; x < te && j + 1 < outsz; x++) {
						if (enc == 'B') {
							int v = mime_b64_value((unsigned char)*x);
							if (v < 0)
								continue;
							acc = ((acc << 6) | (unsigned)v) & 0xffffff;
							bits += 6;
							if (bits >= 8) {
								bits -= 8;
								out[j++] = (char)((acc >> bits) & 0xff);
							}
						} else if (*x == '_') {
							out[j++] = ' ';
						} else if (*x == '=' && x + 2 < te && isxdigit((unsigned char)x[1]) &&
						           isxdigit((unsigned char)x[2])) {
							char hx[3] = { x[1], x[2], 0 };
							out[j++] = (char)strtol(hx, NULL, 16);
							x += 2;
						} else {
							out[j++] = *x;
						}
					}
					i = (size_t)(te + 2 - p);
					last_word = 1;
					continue;
				}
			}
		}
		if (last_word && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n')) {
			size_t k = i;        /* white space between two encoded-words is dropped */
			while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r' || p[k] == '\n'))
				k++;
			if (k + 1 < n && p[k] == '=' && p[k + 1] == '?') {
				i = k;
				continue;
			}
		}
		last_word = 0;
		out[j++] = p[i++];
	}
	out[j] = '\0';
	return j;
}

/* spam_conf_check - the list items must parse. */
int spam_conf_check(const conf *c, char *err, size_t errlen)
{
	const char *const *l;
	size_t n = conf_list(c, "spam.weights", &l);
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(l[i], '=');
		char *end;
		double w = eq ? strtod(eq + 1, &end) : 0;
		int known = 0;
		size_t nl = eq ? (size_t)(eq - l[i]) : 0;
		for (size_t k = 0; eq && k < NDEFS; k++) {
			size_t tl = strlen(table[k].name);
			known |= (nl == tl && strncmp(l[i], table[k].name, tl) == 0) ||
			         ((strcmp(table[k].name, "spam.dnsbl") == 0 || strcmp(table[k].name, "spam.uribl") == 0) &&
			          nl > tl + 1 && strncmp(l[i], table[k].name, tl) == 0 && l[i][tl] == '.');
		}
		if (!eq || end == eq + 1 || *end != '\0' || w < -100 || w > 100 || !known) {
			snprintf(err, errlen, "spam.weights: \"%s\" is not SIGNAL=WEIGHT with a known signal "
			         "and a weight in -100..100", l[i]);
			return -1;
		}
	}
	static const char *const zkeys[] = { "spam.dnsbl_zones", "spam.uribl_zones" };
	for (size_t k = 0; k < 2; k++) {
		n = conf_list(c, zkeys[k], &l);
		for (size_t i = 0; i < n; i++) {
			char zone[SPAM_ZONE_MAX + 1], code[32];
			double w;
			int hw;
			if (zone_item(l[i], zone, sizeof(zone), code, sizeof(code), &w, &hw) < 0) {
				snprintf(err, errlen, "%s: \"%s\" is not ZONE[:127.0.0.X][=WEIGHT]", zkeys[k], l[i]);
				return -1;
			}
		}
		if (n > 4 * SPAM_MAX_ZONES) {
			snprintf(err, errlen, "%s: more than %d items", zkeys[k], 4 * SPAM_MAX_ZONES);
			return -1;
		}
	}
	return 0;
}

/* spam_settings_new - see spam.h: spam_conf_check, then everything the
 * signals read, parsed once. */
spam_settings *spam_settings_new(const conf *c, char *err, size_t errlen)
{
	if (spam_conf_check(c, err, errlen) < 0)
		return NULL;
	spam_settings *st = calloc(1, sizeof(*st));
	const char *const *l;
	size_t n = conf_list(c, "spam.weights", &l);
	if (st == NULL || (st->row_weight = calloc(NDEFS, sizeof(double))) == NULL ||
	    (n && (st->items = calloc(n, sizeof(*st->items))) == NULL)) {
		spam_settings_free(st);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->conf = c;
	for (size_t i = 0; i < n; i++) {
		const char *eq = strchr(l[i], '=');   /* spam_conf_check: every item has one */
		st->items[i] = (struct spam_weight){ l[i], (size_t)(eq - l[i]), strtod(eq + 1, NULL) };
	}
	st->nitems = n;
	for (size_t k = 0; k < NDEFS; k++)
		st->row_weight[k] = named_weight(st, table[k].name, table[k].weight);
	st->ndnsbl = conf_list(c, "spam.dnsbl_zones", &st->dnsbl);
	st->nuribl = conf_list(c, "spam.uribl_zones", &st->uribl);
	st->dnsbl_zones = zones_parse(st->dnsbl, st->ndnsbl);
	st->uribl_zones = zones_parse(st->uribl, st->nuribl);
	if (st->dnsbl_zones == NULL || st->uribl_zones == NULL) {
		spam_settings_free(st);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->nshorteners = conf_list(c, "spam.shorteners", &st->shorteners);
	st->nlocal_names = conf_list(c, "spam.local_names", &st->local_names);
	st->negress = conf_list(c, "milter.egress_addresses", &st->egress);
	st->many_recipients = conf_int(c, "spam.many_recipients");
	st->max_dns_queries = (unsigned)conf_int(c, "spam.max_dns_queries");
	st->max_urls = (size_t)conf_int(c, "spam.max_urls");
	return st;
}

void spam_settings_free(spam_settings *st)
{
	if (st == NULL)
		return;
	free(st->row_weight);
	free(st->items);
	free(st->dnsbl_zones);
	free(st->uribl_zones);
	free(st);
}

/* spam_evaluate - facts first, then every table row in order. */
int spam_evaluate(const struct spam_input *in, struct spam_outcome *out)
{
	spam_outcome_reset(out);
	out->evaluated = 1;
	struct ctx *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -1;
	c->in = in;
	c->out = out;
	c->set = in->settings;
	c->dns_max = c->set->max_dns_queries;
	c->fo = in->fo;
	if (c->fo == NULL) {
		if ((c->fo_own = malloc(sizeof(*c->fo_own))) == NULL) {
			free(c);
			return -1;
		}
		format_check(in->hdrs, NULL, c->fo_own);
		c->fo = c->fo_own;
	}
	int rc = 0;
	if (c->fo->from_domain[0])
		org_domain(c->fo->from_domain, c->from_org, sizeof(c->from_org));
	const struct hdr_field *subj = hdr_find(in->hdrs, "Subject", 0);
	if (subj) {
		c->has_subject = 1;
		c->subject_len = spam_decode_2047(subj->unfolded, subj->ulen, c->subject, sizeof(c->subject));
	}
	if (in->mime) {
		c->mf = mime_facts(in->mime);
		c->urls = urls_new(c->set->max_urls);
		if (c->urls == NULL)
			rc = -1;      /* no URL signals is not "no URLs" */
		size_t pl, hl;
		const char *pt = mime_text(in->mime, MIME_TEXT_PLAIN, &pl);
		const char *ht = mime_text(in->mime, MIME_TEXT_HTML, &hl);
		for (size_t i = 0; i < pl; i++) {   /* isspace() of the C locale, without a call per byte */
			unsigned char b = (unsigned char)pt[i];
			c->plain_text += !(b == ' ' || (b >= '\t' && b <= '\r'));
		}
		if (c->urls) {
			urls_scan_text(c->urls, pt, pl);
			urls_scan_html(c->urls, ht, hl);
		}
	}
	for (size_t i = 0; rc == 0 && i < NDEFS; i++) {
		if (table[i].inbound_only && (in->outbound || in->client_ip == NULL || in->client_ip[0] == '\0'))
			continue;
		table[i].fn(c, &table[i]);
	}
	urls_free(c->urls);
	free(c->fo_own);
	free(c);
	return rc;
}

/* spam_findings - see spam.h. */
void spam_findings(const struct spam_outcome *o, long reject, long quarantine, findings *f)
{
	if (reject > 0 && o->score >= (double)reject)
		findings_add(f, "spam.score.reject", "spam score %.1f reaches %ld", o->score, reject);
	else if (quarantine > 0 && o->score >= (double)quarantine)
		findings_add(f, "spam.score.quarantine", "spam score %.1f reaches %ld", o->score, quarantine);
}

/* spam_outcome_reset - see spam.h. */
void spam_outcome_reset(struct spam_outcome *o)
{
	memset(o, 0, offsetof(struct spam_outcome, signals));
}
