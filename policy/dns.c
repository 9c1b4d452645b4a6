/*
 * dns - the shared resolver on libunbound; see dns.h for the contract.
 *
 * One ub_ctx serves every thread. libunbound has no per-query timeout, so each
 * query is started with ub_resolve_async() and its thread waits for the answer
 * until its own deadline, then ub_cancel()s it. Only one thread at a time
 * reads results (poll on ub_fd + ub_process): that thread runs the callbacks
 * of *every* finished query, so each waiter sleeps on a condition variable
 * and takes over the reading role when it is free. A callback only marks its
 * query done; the owner turns the ub_result into a dns_answer.
 *
 * Final answers are also kept in a small cache of our own (cache_get), for
 * their TTL: a hit is answered in the calling thread without touching
 * libunbound's asynchronous machinery (pipes to its resolving thread). The
 * cache and the answers share one ub_result through a reference count
 * (struct held): a hit copies nothing.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <unbound.h>
#include "buf.h"
#include "conf.h"
#include "dns.h"

/* Longest escaped name: 253 bytes, each as \DDD, plus the root dot and NUL. */
#define DNS_ESCAPED_MAX (253 * 4 + 2)
/* How long the reading thread sleeps in poll() before rechecking deadlines;
 * waiters with an earlier deadline wake on their own, so this only bounds
 * how late a freed reading role is picked up. */
#define DNS_POLL_SLICE_MS 50
/* Answer cache in front of libunbound (see cache_get): slots, direct-mapped by
 * a hash of type and name. libunbound caches too, but reaching its cache
 * through the asynchronous API costs ~22 system calls and two thread
 * switches per query (measured: more kernel than user time per message).
 * 1,024 answers of at most a few KB each bound the memory to a few MB; a
 * collision just replaces the older answer. */
#define DNS_CACHE_SLOTS 1024
/* Longest time an answer is kept, whatever its TTL says. */
#define DNS_CACHE_TTL_MAX 3600

/* held - one ub_result shared by the cache and the answers that point into
 * it (their records' data); freed when the last of them lets go. */
struct held {
	int refs;               /* atomic: answers are freed on any thread */
	struct ub_result *res;
};

static void held_unref(struct held *h);

struct cache_slot {
	char *key;              /* "TYPE/escaped-name", NULL if empty */
	long long expires_ms;
	struct held *h;         /* one reference held by the slot */
};

struct dns_resolver {
	struct ub_ctx *ctx;
	unsigned timeout_ms;
	pthread_mutex_t lock;   /* guards reading, and every pending query's done/result */
	pthread_cond_t cond;    /* broadcast when a query finishes or the reader role frees */
	int reading;            /* a thread is inside poll/ub_process */
	pthread_mutex_t cache_lock;              /* guards cache[] */
	struct cache_slot cache[DNS_CACHE_SLOTS];
};

struct pending {
	dns_resolver *r;
	int done;
	int err;
	struct ub_result *result;
};

/* dns_budget_init - a fresh budget of max queries. */
void dns_budget_init(dns_budget *b, unsigned max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* dns_status_name - a word for s. */
const char *dns_status_name(enum dns_status s)
{
	switch (s) {
	case DNS_OK: return "ok";
	case DNS_NODATA: return "nodata";
	case DNS_NXDOMAIN: return "nxdomain";
	case DNS_TEMPFAIL: return "tempfail";
	case DNS_BUDGET: return "budget";
	case DNS_BADNAME: return "badname";
	}
	return "unknown";
}

/* set_opt - ub_ctx_set_option with an error message. */
static int set_opt(struct ub_ctx *ctx, const char *opt, const char *val, char *err, size_t errlen)
{
	int rc = ub_ctx_set_option(ctx, opt, val);
	if (rc != 0) {
		snprintf(err, errlen, "unbound option %s %s: %s", opt, val, ub_strerror(rc));
		return -1;
	}
	return 0;
}

/* dns_new - build the shared ub_ctx from cfg. */
dns_resolver *dns_new(const struct dns_config *cfg, char *err, size_t errlen)
{
	dns_resolver *r;
	int rc;
	size_t i;

	if (errlen)
		err[0] = '\0';
	if (cfg->nforwarders > DNS_MAX_FORWARDERS || cfg->nzones > DNS_MAX_ZONES) {
		snprintf(err, errlen, "too many forwarders or zones");
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	r->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : DNS_DEFAULT_TIMEOUT_MS;
	r->ctx = ub_ctx_create();
	if (r->ctx == NULL) {
		snprintf(err, errlen, "ub_ctx_create failed");
		free(r);
		return NULL;
	}
	/* A resolving thread, not a forked process: the daemon is threaded. */
	if ((rc = ub_ctx_async(r->ctx, 1)) != 0) {
		snprintf(err, errlen, "ub_ctx_async: %s", ub_strerror(rc));
		goto fail;
	}
	/* Tests (and local caches) forward to loopback servers. */
	if (set_opt(r->ctx, "do-not-query-localhost:", "no", err, errlen) < 0)
		goto fail;
	/* One slow name must not make unbound give up on the whole forwarder. */
	if (set_opt(r->ctx, "infra-keep-probing:", "yes", err, errlen) < 0)
		goto fail;
	for (i = 0; i < cfg->nzones; i++) {
		char v[300];
		if (cfg->transparent_zones[i] == NULL)
			continue;
		if (snprintf(v, sizeof(v), "%s transparent", cfg->transparent_zones[i]) >= (int)sizeof(v)) {
			snprintf(err, errlen, "zone name too long");
			goto fail;
		}
		/* "nodefault" is silently ignored by libunbound 1.17.1; transparent works. */
		if (set_opt(r->ctx, "local-zone:", v, err, errlen) < 0)
			goto fail;
	}
	for (i = 0; i < cfg->nforwarders; i++) {
		if (cfg->forwarders[i] == NULL)
			continue;
		if ((rc = ub_ctx_set_fwd(r->ctx, cfg->forwarders[i])) != 0) {
			snprintf(err, errlen, "forwarder %s: %s", cfg->forwarders[i], ub_strerror(rc));
			goto fail;
		}
	}
	if (cfg->nforwarders == 0 && cfg->use_resolv_conf) {
		if ((rc = ub_ctx_resolvconf(r->ctx, NULL)) != 0) {
			snprintf(err, errlen, "resolv.conf: %s", ub_strerror(rc));
			goto fail;
		}
	}
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	pthread_mutex_init(&r->cache_lock, NULL);
	return r;
fail:
	ub_ctx_delete(r->ctx);
	free(r);
	return NULL;
}

/* dns_free - release the resolver. */
void dns_free(dns_resolver *r)
{
	if (r == NULL)
		return;
	ub_ctx_delete(r->ctx);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	for (size_t i = 0; i < DNS_CACHE_SLOTS; i++) {
		free(r->cache[i].key);
		held_unref(r->cache[i].h);
	}
	pthread_mutex_destroy(&r->cache_lock);
	free(r);
}

/* escape_name - validate (p,n) as a DNS name and write it \DDD-escaped into
 * out; 0 ok, -1 not a DNS name. */
static int escape_name(const char *p, size_t n, char *out, size_t outsz)
{
	size_t i, o = 0, label = 0;

	if (n > 0 && p[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
			continue;
		}
		if (++label > 63)
			return -1;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_') {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outsz)
				return -1;
			snprintf(out + o, 5, "\\%03u", c);
			o += 4;
		}
	}
	if (label == 0)
		return -1;
	if (o + 2 > outsz)
		return -1;
	out[o++] = '.';
	out[o] = '\0';
	return 0;
}

/* wire_name - decode an uncompressed wire-format name at d[0..len) into text
 * (no trailing dot; '.', '\\' and non-printable bytes inside labels as \DDD);
 * returns bytes consumed or -1. */
static long wire_name(const unsigned char *d, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	if (outsz == 0)
		return -1;
	out[0] = '\0';
	while (i < len) {
		size_t l = d[i++];
		if (l == 0) {
			out[o] = '\0';
			return (long)i;
		}
		if (l > 63 || l > len - i)
			return -1;
		if (o > 0) {
			if (o + 1 >= outsz)
				return -1;
			out[o++] = '.';
		}
		for (size_t k = 0; k < l; k++) {
			unsigned char c = d[i + k];
			/* printable bytes stay as they are, so the name can be fed back
			 * to dns_query(); only '.', '\\' and control bytes need \DDD */
			if (c >= 0x20 && c <= 0x7e && c != '.' && c != '\\') {
				if (o + 1 >= outsz)
					return -1;
				out[o++] = (char)c;
			} else {
				if (o + 4 >= outsz)
					return -1;
				snprintf(out + o, 5, "\\%03u", c);
				o += 4;
			}
		}
		i += l;
	}
	return -1;
}

/* on_result - libunbound callback: runs in whichever thread called ub_process. */
static void on_result(void *mydata, int err, struct ub_result *result)
{
	struct pending *q = mydata;
	pthread_mutex_lock(&q->r->lock);
	q->err = err;
	q->result = result;
	q->done = 1;
	pthread_cond_broadcast(&q->r->cond);
	pthread_mutex_unlock(&q->r->lock);
}

/* now_ms - monotonic milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_for - wait until q is done or the deadline passes; returns 1 done, 0
 * timed out (and cancelled: the callback will never run). Called unlocked. */
static int wait_for(dns_resolver *r, struct pending *q, int async_id, long long deadline)
{
	int cancel_tried = 0;

	pthread_mutex_lock(&r->lock);
	while (!q->done) {
		long long left = deadline - now_ms();
		if (left <= 0 && !cancel_tried) {
			int rc;
			pthread_mutex_unlock(&r->lock);
			rc = ub_cancel(r->ctx, async_id);
			pthread_mutex_lock(&r->lock);
			if (rc == UB_NOERROR && !q->done) {
				pthread_mutex_unlock(&r->lock);
				return 0;
			}
			/* UB_NOID: the result is being delivered right now by the
			 * reading thread; its callback still points at q, so wait. */
			cancel_tried = 1;
			continue;
		}
		if (left <= 0)
			left = DNS_POLL_SLICE_MS;
		if (!r->reading) {
			struct pollfd pfd;
			int slice = left < DNS_POLL_SLICE_MS ? (int)left : DNS_POLL_SLICE_MS;
			r->reading = 1;
			pthread_mutex_unlock(&r->lock);
			pfd.fd = ub_fd(r->ctx);
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (pfd.fd >= 0 && poll(&pfd, 1, slice) > 0)
				ub_process(r->ctx);
			else if (pfd.fd < 0)
				poll(NULL, 0, slice);
			pthread_mutex_lock(&r->lock);
			r->reading = 0;
			/* hand the reading role to another waiter */
			pthread_cond_broadcast(&r->cond);
		} else {
			struct timespec ts;
			long long wake_ns;
			clock_gettime(CLOCK_REALTIME, &ts);
			wake_ns = (long long)ts.tv_nsec + (left < DNS_POLL_SLICE_MS ? left : DNS_POLL_SLICE_MS) * 1000000LL;
			ts.tv_sec += (time_t)(wake_ns / 1000000000LL);
			ts.tv_nsec = (long)(wake_ns % 1000000000LL);
			pthread_cond_timedwait(&r->cond, &r->lock, &ts);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return 1;
}

/* rcode_name - short text for a DNS rcode. */
static const char *rcode_name(int rcode)
{
	switch (rcode) {
	case 1: return "FORMERR";
	case 2: return "SERVFAIL";
	case 4: return "NOTIMP";
	case 5: return "REFUSED";
	default: return "rcode";
	}
}

/* held_new - a held result with one reference; NULL when out of memory
 * (res is then freed). */
static struct held *held_new(struct ub_result *res)
{
	struct held *h = malloc(sizeof(*h));
	if (h == NULL) {
		ub_resolve_free(res);
		return NULL;
	}
	h->refs = 1;
	h->res = res;
	return h;
}

/* held_ref - one more reference. */
static struct held *held_ref(struct held *h)
{
	__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
	return h;
}

/* held_unref - drop one reference (NULL accepted). */
static void held_unref(struct held *h)
{
	if (h != NULL && __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		ub_resolve_free(h->res);
		free(h);
	}
}

/* fill_answer - turn a finished result into an answer, which takes over the
 * caller's reference to h (its records point into h's data). */
static void fill_answer(dns_answer *a, struct held *h, int rrtype)
{
	const struct ub_result *res = h->res;
	a->priv_ = h;
	a->rcode = res->rcode;
	if (res->rcode == 3 || res->nxdomain) {
		a->status = DNS_NXDOMAIN;
		a->reason = "NXDOMAIN";
		return;
	}
	if (res->rcode != 0) {
		a->status = DNS_TEMPFAIL;
		a->reason = rcode_name(res->rcode);
		return;
	}
	if (!res->havedata || res->data == NULL) {
		a->status = DNS_NODATA;
		a->reason = "NODATA";
		return;
	}
	for (size_t i = 0; res->data[i] != NULL; i++) {
		struct dns_rr *rr;
		const unsigned char *d = (const unsigned char *)res->data[i];
		size_t len = res->len[i] < 0 ? 0 : (size_t)res->len[i];
		if (a->count >= DNS_MAX_RRS) {
			a->truncated_set = 1;
			break;
		}
		rr = &a->rr[a->count];
		memset(rr, 0, sizeof(*rr));
		rr->data = d;
		rr->len = len;
		switch (rrtype) {
		case DNS_T_A:
			if (len != 4)
				continue;
			break;
		case DNS_T_AAAA:
			if (len != 16)
				continue;
			break;
		case DNS_T_MX:
			if (len < 3 || wire_name(d + 2, len - 2, rr->name, sizeof(rr->name)) < 0)
				continue;
			rr->pref = (unsigned)d[0] << 8 | d[1];
			break;
		case DNS_T_PTR: case DNS_T_NS: case DNS_T_CNAME:
			if (wire_name(d, len, rr->name, sizeof(rr->name)) < 0)
				continue;
			break;
		default:
			break;
		}
		a->count++;
	}
	if (a->count == 0 && !a->truncated_set) {
		a->status = DNS_NODATA;
		a->reason = "NODATA";
		return;
	}
	a->status = DNS_OK;
	a->reason = "ok";
}

/* cache_slot_of - the slot for (type, name) and its key text. */
static struct cache_slot *cache_slot_of(dns_resolver *r, int rrtype, const char *qname,
					char *key, size_t keysz)
{
	snprintf(key, keysz, "%d/%s", rrtype, qname);
	uint32_t h = fnv1a32(FNV32_INIT, key, strlen(key));
	return &r->cache[h % DNS_CACHE_SLOTS];
}

/* cache_get - a reference to a cached, unexpired answer, or NULL. */
static struct held *cache_get(dns_resolver *r, int rrtype, const char *qname)
{
	char key[DNS_ESCAPED_MAX + 16];
	struct held *h = NULL;
	pthread_mutex_lock(&r->cache_lock);
	struct cache_slot *sl = cache_slot_of(r, rrtype, qname, key, sizeof(key));
	if (sl->key != NULL && strcmp(sl->key, key) == 0 && sl->expires_ms > now_ms())
		h = held_ref(sl->h);
	pthread_mutex_unlock(&r->cache_lock);
	return h;
}

/* cache_put - remember h for its TTL: only final answers (NOERROR with or
 * without data, NXDOMAIN) that are not bogus and carry a TTL; never errors,
 * so a SERVFAIL or timeout is retried by the next query. The slot takes
 * its own reference; the answers share the result, nothing is copied. */
static void cache_put(dns_resolver *r, int rrtype, const char *qname, struct held *h)
{
	const struct ub_result *res = h->res;
	if ((res->rcode != 0 && res->rcode != 3) || res->bogus || res->ttl <= 0)
		return;
	char key[DNS_ESCAPED_MAX + 16];
	char *k = NULL;
	struct held *old_h = NULL;
	pthread_mutex_lock(&r->cache_lock);
	struct cache_slot *sl = cache_slot_of(r, rrtype, qname, key, sizeof(key));
	if ((k = strdup(key)) != NULL) {
		int ttl = res->ttl < DNS_CACHE_TTL_MAX ? res->ttl : DNS_CACHE_TTL_MAX;
		old_h = sl->h;
		char *old_k = sl->key;
		sl->key = k;
		sl->h = held_ref(h);
		sl->expires_ms = now_ms() + (long long)ttl * 1000;
		k = old_k;
	}
	pthread_mutex_unlock(&r->cache_lock);
	free(k);
	held_unref(old_h);
}

/* answer_new - an empty answer. The record table (18 KB) is not cleared:
 * records are written one by one as count grows, and five lookups per
 * message made the zeroing a visible part of the cost. */
static dns_answer *answer_new(void)
{
	dns_answer *a = malloc(sizeof(*a));
	if (a == NULL)
		return NULL;
	memset(a, 0, offsetof(dns_answer, rr));
	memset((char *)a + offsetof(dns_answer, truncated_set), 0,
	       sizeof(*a) - offsetof(dns_answer, truncated_set));
	a->rcode = -1;
	return a;
}

/* dns_query - one lookup with the resolver's deadline and b's budget. */
dns_answer *dns_query(dns_resolver *r, dns_budget *b, const char *name, size_t namelen, int rrtype)
{
	char qname[DNS_ESCAPED_MAX];
	struct pending q;
	dns_answer *a;
	int async_id = 0, rc;
	long long deadline;

	a = answer_new();
	if (a == NULL)
		return NULL;
	if (name == NULL || escape_name(name, namelen, qname, sizeof(qname)) < 0) {
		a->status = DNS_BADNAME;
		a->reason = "bad name";
		return a;
	}
	if (b != NULL) {
		if (b->max && b->used >= b->max) {
			a->status = DNS_BUDGET;
			a->reason = "budget";
			return a;
		}
		b->used++;
	}
	if (r == NULL) {
		a->status = DNS_TEMPFAIL;
		a->reason = "no resolver";
		if (b)
			b->errors++;
		return a;
	}
	/* A cached answer still counts against the budget (above): SPF's
	 * lookup limits count lookups, not packets. */
	struct held *hit = cache_get(r, rrtype, qname);
	if (hit != NULL) {
		fill_answer(a, hit, rrtype);
		return a;
	}
	memset(&q, 0, sizeof(q));
	q.r = r;
	deadline = now_ms() + r->timeout_ms;
	rc = ub_resolve_async(r->ctx, qname, rrtype, 1, &q, on_result, &async_id);
	if (rc != 0) {
		a->status = DNS_TEMPFAIL;
		a->reason = "resolver error";
		if (b)
			b->errors++;
		return a;
	}
	if (!wait_for(r, &q, async_id, deadline)) {
		a->status = DNS_TEMPFAIL;
		a->reason = "timeout";
		if (b)
			b->timeouts++;
		return a;
	}
	if (q.err != 0 || q.result == NULL) {
		a->status = DNS_TEMPFAIL;
		a->reason = "resolver error";
		if (q.result)
			ub_resolve_free(q.result);
		if (b)
			b->errors++;
		return a;
	}
	struct held *h = held_new(q.result);
	if (h == NULL) {
		a->status = DNS_TEMPFAIL;
		a->reason = "out of memory";
		if (b)
			b->errors++;
		return a;
	}
	cache_put(r, rrtype, qname, h);
	fill_answer(a, h, rrtype);
	if (a->status == DNS_TEMPFAIL && b)
		b->errors++;
	return a;
}

/* dns_answer_free - release a and the ub_result its records point into. */
void dns_answer_free(dns_answer *a)
{
	if (a == NULL)
		return;
	held_unref(a->priv_);
	free(a);
}

/* dns_txt_join - concatenate the character-strings of one TXT rdata. */
long dns_txt_join(const unsigned char *rdata, size_t len, char *out, size_t outsz)
{
	size_t i = 0, o = 0;

	while (i < len) {
		size_t l = rdata[i++];
		if (l > len - i)
			return -1;
		if (l >= outsz - o)   /* keep room for the terminating NUL */
			return -1;
		memcpy(out + o, rdata + i, l);
		o += l;
		i += l;
	}
	if (outsz == 0)
		return -1;
	out[o] = '\0';
	return (long)o;
}

/* dns_ip_parse - textual IP to 16 bytes, IPv4 as IPv4-mapped IPv6. */
int dns_ip_parse(const char *s, unsigned char out[16])
{
	static const unsigned char mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
	unsigned char v4[4];

	if (s == NULL)
		return 0;
	if (inet_pton(AF_INET, s, v4) == 1) {
		memcpy(out, mapped, 12);
		memcpy(out + 12, v4, 4);
		return 4;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return memcmp(out, mapped, 12) == 0 ? 4 : 6;
	return 0;
}

/* dns_new_conf - see dns.h. */
dns_resolver *dns_new_conf(const struct conf *c, char *err, size_t errlen)
{
	struct dns_config dc = { .timeout_ms = (unsigned)conf_int(c, "dns.timeout_ms"),
	                         .use_resolv_conf = 1 };
	const char *const *items;
	size_t n = conf_list(c, "dns.forwarders", &items);
	for (size_t i = 0; i < n && i < DNS_MAX_FORWARDERS; i++)
		dc.forwarders[dc.nforwarders++] = items[i];
	n = conf_list(c, "dns.transparent_zones", &items);
	for (size_t i = 0; i < n && i < DNS_MAX_ZONES; i++)
		dc.transparent_zones[dc.nzones++] = items[i];
	return dns_new(&dc, err, errlen);
}
