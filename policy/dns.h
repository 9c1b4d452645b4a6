/*
 * dns - the one resolver for every lookup trustmilter makes (SPF, DKIM, DMARC,
 * later blocklists and iprev), built on libunbound.
 *
 * One dns_resolver per process (shared by all threads: the libunbound cache is
 * shared); it is immutable after dns_new() apart from libunbound's own locked
 * state, and is rebuilt and swapped on reload. Each message gets a dns_budget
 * that caps how many queries the message may cause (DNS_DEFAULT_BUDGET) and
 * counts them; a query past the budget is not sent and returns DNS_BUDGET.
 *
 * Every query has a deadline (timeout_ms): libunbound has no per-query timeout,
 * so queries run asynchronously and are cancelled at the deadline, which then
 * reports DNS_TEMPFAIL ("timeout").
 *
 * Names are given as (pointer, length) and may contain any byte: bytes outside
 * letters, digits, '-', '_' and '.' are escaped as \DDD before libunbound sees
 * them, so names with spaces, '%', ':' or '/' are queried literally. A trailing
 * dot is optional. Names that cannot be a DNS name (empty label, label > 63,
 * name > 253) return DNS_BADNAME without any query.
 */
#ifndef TM_DNS_H
#define TM_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_MAX_FORWARDERS 8
#define DNS_MAX_ZONES 16
#define DNS_DEFAULT_TIMEOUT_MS 5000   /* well under the MTA's ~10 s milter step timeout */
#define DNS_DEFAULT_BUDGET 100        /* SPF alone may use 10 + 2x10 + void; DKIM, DMARC the rest */
#define DNS_MAX_RRS 64                /* answers kept per query; more are dropped */

enum { DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_PTR = 12, DNS_T_MX = 15,
       DNS_T_TXT = 16, DNS_T_AAAA = 28 };

enum dns_status {
	DNS_OK = 0,        /* NOERROR with at least one record of the asked type */
	DNS_NODATA,        /* NOERROR, no record of the asked type (a "void" answer) */
	DNS_NXDOMAIN,      /* the name does not exist (also "void") */
	DNS_TEMPFAIL,      /* SERVFAIL, REFUSED, timeout, network error: temporary */
	DNS_BUDGET,        /* per-message query budget exhausted: not sent */
	DNS_BADNAME        /* not a valid DNS name: not sent */
};

struct dns_config {
	const char *forwarders[DNS_MAX_FORWARDERS]; /* "IP" or "IP@PORT"; none = /etc/resolv.conf */
	size_t nforwarders;
	const char *transparent_zones[DNS_MAX_ZONES]; /* e.g. "test." (unbound's built-in local zones) */
	size_t nzones;
	unsigned timeout_ms;        /* per-query deadline; 0 = DNS_DEFAULT_TIMEOUT_MS */
	int use_resolv_conf;        /* read /etc/resolv.conf when there are no forwarders */
};

typedef struct dns_resolver dns_resolver;

/* One record of the answer section with the asked type, rdata uncompressed
 * for A/AAAA/TXT; for PTR/MX/NS/CNAME the target name is decoded to text. */
struct dns_rr {
	const unsigned char *data; /* A: 4 bytes, AAAA: 16, TXT: raw rdata (length-prefixed strings) */
	size_t len;
	char name[256];            /* PTR/MX/NS/CNAME target as text, case preserved, no trailing dot;
	                              printable bytes as is, ".", "\\" and control bytes as \\DDD */
	unsigned pref;             /* MX preference */
};

typedef struct dns_answer {
	enum dns_status status;
	int rcode;                 /* DNS rcode when a reply arrived, else -1 */
	const char *reason;        /* short text: "timeout", "SERVFAIL", "budget", ... */
	size_t count;              /* records in rr[] */
	struct dns_rr rr[DNS_MAX_RRS];
	int truncated_set;         /* more than DNS_MAX_RRS records were answered */
	void *priv_;               /* owned by dns.c */
} dns_answer;

typedef struct dns_budget {
	unsigned used;
	unsigned max;              /* 0 = unlimited */
	unsigned timeouts;         /* statistics for the audit/log line */
	unsigned errors;
} dns_budget;

/* dns_new - build a resolver; NULL with a reason in err on failure. */
dns_resolver *dns_new(const struct dns_config *cfg, char *err, size_t errlen);
/* dns_new_conf - dns_new with the configuration's dns.timeout_ms,
 * dns.forwarders and dns.transparent_zones (the system resolver otherwise). */
struct conf;
dns_resolver *dns_new_conf(const struct conf *c, char *err, size_t errlen);
/* dns_free - release r (NULL accepted). No queries may be running. */
void dns_free(dns_resolver *r);
/* dns_budget_init - a fresh budget of max queries. */
void dns_budget_init(dns_budget *b, unsigned max);

/* dns_query - look up (name, namelen) of type rrtype. Always returns a
 * non-NULL answer (even on failure; status says what happened) unless out of
 * memory, which returns NULL. Free it with dns_answer_free(). b may be NULL
 * (no budget). Thread-safe. */
dns_answer *dns_query(dns_resolver *r, dns_budget *b, const char *name, size_t namelen, int rrtype);
void dns_answer_free(dns_answer *a);

/* dns_txt_join - join the character-strings of one TXT rdata without separator
 * into out[outsz]; returns the joined length (may include NUL bytes) or -1 if
 * it does not fit or the rdata is malformed. */
long dns_txt_join(const unsigned char *rdata, size_t len, char *out, size_t outsz);

/* dns_status_name - "ok", "nodata", "nxdomain", "tempfail", "budget", "badname". */
const char *dns_status_name(enum dns_status s);

/* dns_ip_parse - parse textual IPv4/IPv6 into 16 bytes (IPv4 as ::ffff:a.b.c.d
 * mapped); returns 4 or 6 (the family after unmapping IPv4-mapped IPv6), 0 if invalid. */
int dns_ip_parse(const char *s, unsigned char out[16]);

#endif
