/*
 * session - the milter's events in, a verdict out; see session.h.
 *
 * The session collects headers (capped), streams them and the body into the
 * DKIM verifier, and at end of message runs the evaluators in dependency
 * order: From domain, SPF, DKIM results, DMARC (needs both), one-click
 * unsubscribe (needs DKIM coverage and DMARC alignment), bulk detection,
 * provider readiness; then the verdict funnel and the headers to add.
 */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include "session_int.h"
#include "cidr.h"
#include "format.h"
#include "bulk.h"
#include "record.h"

/* env_hostname - configured name or the system host name. */
static void env_hostname(const conf *c, const char *key, char *out, size_t outsz)
{
	const char *v = conf_str(c, key);
	if (v && *v) {
		str_copy(out, outsz, v, strlen(v));
		return;
	}
	if (gethostname(out, outsz) != 0 || out[0] == '\0')
		str_copy(out, outsz, "localhost", 9);
	out[outsz - 1] = '\0';
}

/* tm_env_new - resolver and DKIM engine from the configuration. */
tm_env *tm_env_new(conf *c, char *err, size_t errlen)
{
	tm_env *e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->refs = 1;
	e->conf = conf_ref(c);
	e->dns = dns_new_conf(c, err, errlen);
	if (e->dns == NULL)
		goto fail;
	e->dkim = dkim_engine_new(e->dns, err, errlen);
	if (e->dkim == NULL)
		goto fail;
	e->arckeys = arckeys_new();
	if (e->arckeys == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	e->pol = policy_new(c, err, errlen);
	if (e->pol == NULL)
		goto fail;
	e->sign = signkeys_new(c, err, errlen);
	if (e->sign == NULL)
		goto fail;
	e->dmarc_mode = strcmp(conf_str(c, "dmarc.mode"), "rfc7489") == 0
		? DMARC_MODE_RFC7489 : DMARC_MODE_RFC9989;
	env_hostname(c, "authserv_id", e->authserv_id, sizeof(e->authserv_id));
	env_hostname(c, "hostname", e->hostname, sizeof(e->hostname));
	e->compliance_name = conf_str(c, "header.compliance");
	e->compliance_len = strlen(e->compliance_name);
	return e;
fail:
	tm_env_unref(e);
	return NULL;
}

tm_env *tm_env_ref(tm_env *e)
{
	__atomic_add_fetch(&e->refs, 1, __ATOMIC_SEQ_CST);
	return e;
}

/* tm_env_unref - the last reference frees the engine, resolver and config. */
void tm_env_unref(tm_env *e)
{
	if (e == NULL || __atomic_sub_fetch(&e->refs, 1, __ATOMIC_SEQ_CST) > 0)
		return;
	dkim_engine_free(e->dkim);
	arckeys_free(e->arckeys);
	dns_free(e->dns);
	policy_free(e->pol);
	signkeys_free(e->sign);
	conf_unref(e->conf);
	free(e);
}

const conf *tm_env_conf(const tm_env *e) { return e->conf; }
const struct policy *tm_env_policy(const tm_env *e) { return e->pol; }

_Static_assert((int)DIR_INBOUND == (int)POLICY_INBOUND && (int)DIR_OUTBOUND == (int)POLICY_OUTBOUND,
               "the policy's per-direction tables are indexed by enum direction");

void tm_env_set_record_sink(tm_env *e, tm_record_sink fn, void *arg)
{
	e->record_sink = fn;
	e->record_arg = arg;
}
const char *tm_env_hostname(const tm_env *e) { return e->hostname; }
const signkeys *tm_env_signkeys(const tm_env *e) { return e->sign; }

/* record_message - the message's audit record to the environment's record
 * sink (which never blocks: see tm_record_sink). */
static void record_message(session *s, const struct timespec *t0)
{
	if (s->env->record_sink == NULL)
		return;
	struct audit_record *r = malloc(sizeof(*r));   /* ~12 KB: not on a milter thread's stack */
	if (r == NULL || audit_from_session(s, r) < 0) {
		free(r);
		return;
	}
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	r->eom_us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
	s->env->record_sink(s->env->record_arg, r);
	free(r);
}

/* session_new - one connection. */
session *session_new(tm_env *env)
{
	session *s = malloc(sizeof(*s));    /* ~60 KB: most of it tables cleared on use */
	if (s == NULL)
		return NULL;
	memset(s, 0, offsetof(session, fo));
	format_outcome_reset(&s->fo);
	unsub_outcome_reset(&s->unsub);
	spam_outcome_reset(&s->spam);
	s->env = tm_env_ref(env);
	s->hdrs = hdr_new(env->pol->header_count, env->pol->header_bytes);
	s->f = findings_new();
	if (s->hdrs == NULL || s->f == NULL) {
		session_free(s);
		return NULL;
	}
	hdr_set_compliance(s->hdrs, env->compliance_name);
	str_copy(s->queue_id, sizeof(s->queue_id), "NOQUEUE", 7);
	return s;
}

/* message_clear - forget per-message state. */
static void message_clear(session *s)
{
	hdr_reset(s->hdrs);
	findings_reset(s->f);
	dkim_verify_free(s->dkim);
	s->dkim = NULL;
	arc_free(s->arc);
	s->arc = NULL;
	s->arc_out.result = AR_NONE;
	s->arc_override[0] = '\0';
	s->nsigs = 0;
	s->sigs = NULL;
	dkimsign_free(s->sign);
	arcseal_free(s->seal);
	s->seal = NULL;
	s->sign = NULL;
	free(s->sigs_signed);
	s->sigs_signed = NULL;
	mime_free(s->mime);
	s->mime = NULL;
	s->mime_begun = 0;
	memset(&s->iprev, 0, sizeof(s->iprev));
	spam_outcome_reset(&s->spam);
	verdict_clear(&s->v);
	free(s->authres);
	free(s->compliance);
	s->authres = s->compliance = NULL;
	s->in_message = 0;
	s->evaluated = 0;
	s->mail_from[0] = s->mf_domain[0] = '\0';
	s->mf_null = s->mf_bad = 0;
	s->nrcpt = 0;
	memset(s->rcpt_prov, 0, sizeof(s->rcpt_prov));
	fbcap_free(s->fb);
	s->fb = NULL;
	s->fb_rcpt = 0;
	s->body_bytes = 0;
	s->ar_seen = 0;
	s->comp_seen = 0;
	s->ar_removed = s->comp_removed = 0;
	s->nauthors = 0;
	s->failed = 0;
}

void session_free(session *s)
{
	if (s == NULL)
		return;
	if (s->hdrs && s->f)
		message_clear(s);
	hdr_free(s->hdrs);
	findings_free(s->f);
	tm_env_unref(s->env);
	free(s);
}

/* session_connect - remember the client. */
int session_connect(session *s, const char *hostname, const char *ip)
{
	str_copy(s->client_host, sizeof(s->client_host), hostname ? hostname : "",
	         hostname ? strlen(hostname) : 0);
	str_copy(s->client_ip, sizeof(s->client_ip), ip ? ip : "", ip ? strlen(ip) : 0);
	return 0;
}

int session_helo(session *s, const char *helo)
{
	str_copy(s->helo, sizeof(s->helo), helo ? helo : "", helo ? strlen(helo) : 0);
	return 0;
}

const char *session_direction_name(enum direction d)
{
	return d == DIR_OUTBOUND ? "outbound" : "inbound";
}

void session_set_direction(session *s, enum direction d, const char *reason)
{
	s->dir = d;
	str_copy(s->dir_reason, sizeof(s->dir_reason), reason ? reason : "", reason ? strlen(reason) : 0);
}

void session_set_seal(session *s, int always)
{
	s->seal_always = always;
}

/* session_set_macro - MTA facts the policy may use or log. */
void session_set_macro(session *s, const char *name, const char *value)
{
	if (value == NULL)
		value = "";
	size_t n = strlen(value);
	if (strcmp(name, "i") == 0 && n)
		str_copy(s->queue_id, sizeof(s->queue_id), value, n);
	else if (strcmp(name, "auth_authen") == 0)
		str_copy(s->auth, sizeof(s->auth), value, n);
	else if (strcmp(name, "tls_version") == 0)
		str_copy(s->tls, sizeof(s->tls), value, n);
	else if (strcmp(name, "daemon_name") == 0)
		str_copy(s->daemon, sizeof(s->daemon), value, n);
}

/* start_message - fresh per-message state, started by MAIL or by a header
 * that arrives without MAIL (a file fed without an envelope). */
static int start_message(session *s)
{
	message_clear(s);
	s->in_message = 1;
	s->msg_count++;
	const struct policy *pol = s->env->pol;
	dns_budget_init(&s->budget, pol->dns_max_queries);
	s->dkim = dkim_verify_new(s->env->dkim, &s->budget);
	s->failed = s->dkim == NULL;
	if ((pol->arc_verify || pol->arc_seal != POLICY_SEAL_NEVER || s->seal_always) && (s->arc = arc_new(s->env->dns, &s->budget, s->env->arckeys)) == NULL)
		s->failed = 1;   /* no validation is not "no chain": refuse to guess */
	if (s->arc)
		arc_want_oldest_pass(s->arc, pol->arc_oldest_pass);
	if (pol->spam_enabled) {
		s->mime = mime_new(&pol->mime);
		if (s->mime == NULL) {
			s->failed = 1;   /* no spam verdict is not "no signals": refuse to guess */
			return -1;
		}
	}
	return s->dkim ? 0 : -1;
}

/* session_set_source - remember the input's name for the reports. */
void session_set_source(session *s, const char *file, size_t index)
{
	str_copy(s->source, sizeof(s->source), file ? file : "", file ? strlen(file) : 0);
	s->source_index = index;
}

/* session_add_finding - caller-observed finding for the current message. */
void session_add_finding(session *s, const char *name, const char *detail)
{
	if (!s->in_message && start_message(s) < 0)
		return;
	findings_add(s->f, name, "%s", detail);
}

/* session_mail - parse the reverse path; a malformed one is a finding. */
int session_mail(session *s, const char *path)
{
	if (start_message(s) < 0)
		return -1;
	char local[256];
	size_t n = path ? strlen(path) : 0;
	str_copy(s->mail_from, sizeof(s->mail_from), path ? path : "", n);
	if (addr_parse_path(path ? path : "", n, local, sizeof(local), s->mf_domain,
	                    sizeof(s->mf_domain)) < 0) {
		s->mf_bad = 1;
		s->mf_domain[0] = '\0';
		findings_add(s->f, "envelope.mail_from_syntax", "MAIL FROM path cannot be parsed");
	} else if (local[0] == '\0' && s->mf_domain[0] == '\0') {
		s->mf_null = 1;
	}
	/* keep only the address for SPF: strip the angle brackets */
	if (!s->mf_null && !s->mf_bad) {
		char tmp[512];
		snprintf(tmp, sizeof(tmp), "%s@%s", local, s->mf_domain);
		str_copy(s->mail_from, sizeof(s->mail_from), tmp, strlen(tmp));
	} else if (s->mf_null) {
		s->mail_from[0] = '\0';
	}
	return 0;
}

int session_rcpt(session *s, const char *path)
{
	s->nrcpt++;
	s->rcpt_prov[provider_of_path(s->env->pol->providers, path ? path : "")]++;
	if (s->dir != DIR_INBOUND || !fbcap_is_mailbox(s->env->pol, path))
		return 0;
	s->fb_rcpt++;
	if (s->fb == NULL && (s->fb = fbcap_new()) == NULL)
		return -1;
	return 0;
}

/* is_ours - does this Authentication-Results value carry our authserv-id?
 * Compared after CFWS and quoted-string decoding (authres_servid), ASCII
 * case-insensitively, and with one trailing dot ignored on either side: a
 * field a reader could take for ours is removed. */
static int is_ours(const session *s, const char *v, size_t n)
{
	char id[256];
	int il = authres_servid(v, n, id, sizeof(id));
	if (il <= 0)
		return 0;
	size_t ml = strlen(s->env->authserv_id), l = (size_t)il;
	if (l > 1 && id[l - 1] == '.')
		l--;
	if (ml > 1 && s->env->authserv_id[ml - 1] == '.')
		ml--;
	return mem_caseeq(id, l, s->env->authserv_id, ml);
}

_Static_assert(VERDICT_MAX_REMOVE >= HDR_CAP_AUTHRES + HDR_CAP_COMPLIANCE,
               "the removal list holds every forged field the header store can hold");

/* note_removal - remember the nth field of this name for removal (RFC 8601
 * 5). Each name may use its header class's cap (HDR_CAP_AUTHRES,
 * HDR_CAP_COMPLIANCE); past it the message cannot be delivered without a
 * forged field, and limits.forged_headers rejects it (enforce_forged). */
static void note_removal(session *s, const char *name, unsigned index, unsigned *used, size_t cap)
{
	if (*used >= cap || s->v.nremove >= VERDICT_MAX_REMOVE) {
		findings_add(s->f, "limits.forged_headers", "more than %zu forged %s fields to remove",
		             cap, name);
		return;
	}
	(*used)++;
	struct verdict_remove *r = &s->v.remove[s->v.nremove++];
	str_copy(r->name, sizeof(r->name), name, strlen(name));
	r->index = index;
}

/* session_header - keep the field (capped), hash it, note forged results. */
int session_header(session *s, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (!s->in_message && start_message(s) < 0)
		return -1;
	int r = hdr_add(s->hdrs, name, nlen, value, vlen);
	if (memchr(value, '\0', vlen))
		findings_add(s->f, "format.header_nul", "the %.*s field contains a NUL byte",
		             (int)(nlen > 64 ? 64 : nlen), name);
	if (r == -1) {
		findings_add(s->f, "limits.headers", "header section larger than the configured caps");
	} else if (r == -3) {
		const struct hdr_class *hc = hdr_class_of(s->hdrs, name, nlen);
		if (hc)
			findings_add(s->f, hc->finding, "more %s fields than kept (%zu fields, %zu bytes)",
			             hc->name ? hc->name : s->env->compliance_name, hc->max_count,
			             hc->max_bytes);
	} else if (r == -2)
		findings_add(s->f, "format.header_name", "a header field name has invalid characters");
	if (s->dkim)
		dkim_verify_header(s->dkim, name, nlen, value, vlen);
	fbcap_header(s->fb, name, nlen, value, vlen);
	const char *comp = s->env->compliance_name;
	if (mem_caseeq(name, nlen, "Authentication-Results", 22)) {
		s->ar_seen++;
		if (is_ours(s, value, vlen))
			note_removal(s, "Authentication-Results", s->ar_seen, &s->ar_removed,
			             HDR_CAP_AUTHRES);
	} else if (comp[0] && mem_caseeq(name, nlen, comp, s->env->compliance_len)) {
		/* any incoming compliance header claims to be ours: drop it */
		s->comp_seen++;
		note_removal(s, comp, s->comp_seen, &s->comp_removed, HDR_CAP_COMPLIANCE);
	}
	return 0;
}

/* mime_start - give the walker the message's own Content-Type and encoding. */
static void mime_start(session *s)
{
	if (s->mime == NULL || s->mime_begun)
		return;
	const struct hdr_field *ct = hdr_find(s->hdrs, "Content-Type", 0);
	const struct hdr_field *te = hdr_find(s->hdrs, "Content-Transfer-Encoding", 0);
	mime_begin(s->mime, ct ? ct->unfolded : NULL, ct ? ct->ulen : 0,
	           te ? te->unfolded : NULL, te ? te->ulen : 0);
	s->mime_begun = 1;
}

/* seal_path - does this message get an ARC set (arc.seal)? */
static int seal_path(const session *s)
{
	const struct policy *pol = s->env->pol;
	if (s->seal_always)
		return 1;
	if (pol->arc_seal == POLICY_SEAL_NEVER)
		return 0;
	if (pol->arc_seal == POLICY_SEAL_OUTBOUND && s->dir == DIR_OUTBOUND)
		return 1;
	if (policy_net_match(pol->arc_seal_networks, pol->narc_seal_networks, s->client_ip))
		return 1;
	for (size_t i = 0; s->daemon[0] && i < pol->narc_seal_daemons; i++)
		if (strcmp(s->daemon, pol->arc_seal_daemons[i]) == 0)
			return 1;
	return 0;
}

int session_eoh(session *s)
{
	if (!s->in_message && start_message(s) < 0)
		return -1;
	if (s->dkim)
		dkim_verify_eoh(s->dkim);
	if (s->arc)
		arc_eoh(s->arc, s->hdrs);
	mime_start(s);
	fbcap_body(s->fb, NULL, 0);
	if (s->dir == DIR_OUTBOUND) {
		int oom;
		s->sign = dkimsign_begin(s->env->sign, s->hdrs, s->f, &oom);
		s->failed |= oom;
	}
	if (seal_path(s)) {
		int oom;
		s->seal = arcseal_begin(s->env->sign, &oom);
		s->failed |= oom;
	}
	return 0;
}

int session_body(session *s, const unsigned char *p, size_t n)
{
	s->body_bytes += n;
	if (s->dkim)
		dkim_verify_body(s->dkim, p, n);
	dkimsign_body(s->sign, p, n);
	arcseal_body(s->seal, p, n);
	fbcap_body(s->fb, p, n);
	if (s->arc) {
		arc_eoh(s->arc, s->hdrs);   /* once; a body without end of headers first */
		arc_body(s->arc, p, n);
	}
	if (s->mime) {
		mime_start(s);
		mime_feed(s->mime, p, n);
	}
	return 0;
}

void session_abort(session *s)
{
	message_clear(s);
}

/* eval_spf - SPF for the address receivers will see. Outbound mail is
 * checked for the configured egress address, not the internal client. */
static void eval_spf(session *s)
{
	const char *egress = s->env->pol->egress_address;
	const char *ip = (s->dir == DIR_OUTBOUND && egress) ? egress : s->client_ip;
	memset(&s->spf, 0, sizeof(s->spf));
	str_copy(s->spf_ip, sizeof(s->spf_ip), ip, strlen(ip));
	if (ip[0] == '\0') {
		s->spf.result = AR_NONE;
		snprintf(s->spf.problem, sizeof(s->spf.problem), "no client address to check");
		snprintf(s->spf.identity, sizeof(s->spf.identity), "mailfrom");
		return;
	}
	struct spf_request rq = { .ip = ip, .helo = s->helo, .mail_from = s->mail_from,
	                          .receiver = s->env->hostname };
	spf_check(s->env->dns, &s->budget, &rq, &s->spf);
	s->spf_evaluated = 1;
	spf_findings(&s->spf, ip, s->f);
}

_Static_assert(SIGNKEYS_PER_MESSAGE <= DKIM_MAX_SIGS, "our signatures fit the DKIM results");

/* sign_message - outbound: our signatures (dkimsign), put before the
 * arrived ones so that DMARC and RFC 8058 judge the message as it leaves. */
static void sign_message(session *s)
{
	size_t n = dkimsign_end(s->sign, s->hdrs, s->sigs, s->nsigs, time(NULL), s->f);
	if (n == 0)
		return;
	size_t keep = s->nsigs + n <= DKIM_MAX_SIGS ? s->nsigs : DKIM_MAX_SIGS - n;
	s->sigs_signed = malloc((n + keep) * sizeof(*s->sigs_signed));
	if (s->sigs_signed == NULL) {
		s->failed = 1;
		return;
	}
	for (size_t i = 0; i < n; i++)
		s->sigs_signed[i] = *dkimsign_sig(s->sign, i);
	if (keep)
		memcpy(s->sigs_signed + n, s->sigs, keep * sizeof(*s->sigs));
	s->sigs = s->sigs_signed;
	s->nsigs = n + keep;
}

/* eval_dkim - the per-signature results and their findings; outbound, our
 * own signatures first; dkim.none when the message leaves without any. */
static void eval_dkim(session *s)
{
	s->nsigs = 0;
	s->sigs = NULL;
	if (s->dkim == NULL)
		return;
	dkim_verify_eom(s->dkim);
	s->nsigs = dkim_verify_results(s->dkim, &s->sigs, s->f);
	sign_message(s);
	if (s->nsigs == 0)
		findings_add(s->f, "dkim.none", "the message has no DKIM signature");
}

/* eval_arc - the ARC chain (RFC 8617 5.2); a failure is its arc.* finding. */
static void eval_arc(session *s)
{
	if (s->arc == NULL)
		return;
	arc_eoh(s->arc, s->hdrs);
	arc_eom(s->arc, &s->arc_out);
	if (s->arc_out.finding)
		findings_add(s->f, s->arc_out.finding, "ARC: %s", s->arc_out.reason);
}

/* arc_overrides - a failed DMARC reject or quarantine for a single author
 * domain that a trusted ARC sealer vouches for (arc_override): the sealer
 * goes to s->arc_override and dmarc.override.arc replaces the disposition
 * findings. Several author readings are never overridden. */
static int arc_overrides(session *s)
{
	const struct dmarc_outcome *d = &s->dmarc;
	const struct policy *pol = s->env->pol;
	if (s->arc == NULL || s->dir != DIR_INBOUND || d->result != AR_FAIL || s->nauthors != 1 ||
	    s->fo.from_domain[0] == '\0' || d->disposition < DMARC_P_QUARANTINE)
		return 0;
	return arc_override(s->arc, &s->arc_out, pol->arc_sealers, pol->narc_sealers, s->fo.from_domain,
	                    d->org_domain, s->arc_override, sizeof(s->arc_override));
}

/* dmarc_one - DMARC for one author domain into out. */
static void dmarc_one(session *s, const char *domain, struct dmarc_outcome *out)
{
	struct dmarc_input in = { .from_domain = domain,
	                          .spf_result = s->spf_evaluated ? s->spf.result : AR_NONE,
	                          .spf_domain = s->spf.domain, .nsigs = s->nsigs, .sigs = s->sigs };
	/* RFC 7489 pct sampling: keyed on the Message-ID so that a retried message
	 * gets the same disposition; the queue id when there is none */
	const struct hdr_field *mid = hdr_find(s->hdrs, "Message-ID", 0);
	in.sample_key = mid && mid->ulen ? mid->unfolded : s->queue_id;
	dmarc_evaluate(s->env->dns, &s->budget, s->env->dmarc_mode, &in, out);
}

/* dmarc_unread - the reading of an author we could not evaluate: a From
 * without a domain fails (nothing authenticates it); a domain we did not see
 * (refused by a cap, or past FORMAT_AUTHORS_MAX) may be any domain, so it is
 * read as failing a p=reject policy. */
static void dmarc_unread(struct dmarc_outcome *out, int unseen)
{
	memset(out, 0, sizeof(*out));
	out->result = AR_FAIL;
	if (unseen) {
		out->policy = out->disposition = DMARC_P_REJECT;
		snprintf(out->problem, sizeof(out->problem), "author domains past the caps (or the DNS "
		         "budget) were not evaluated: read as failing a reject policy");
	} else {
		snprintf(out->problem, sizeof(out->problem), "a From field gives no author domain: "
		         "read as failing");
	}
}

/* dmarc_consider - keep o in s->dmarc when it is stricter; note the reading. */
static void dmarc_consider(session *s, const struct dmarc_outcome *o, const char *domain)
{
	if (s->nauthors == 0 || dmarc_severity(o) > dmarc_severity(&s->dmarc))
		memcpy(&s->dmarc, o, sizeof(*o));
	if (s->nauthors < SESSION_MAX_AUTHORS) {
		struct dmarc_author *a = &s->authors[s->nauthors++];
		str_copy(a->domain, sizeof(a->domain), domain, strlen(domain));
		a->result = o->result;
		a->disposition = o->disposition;
	}
}

/* eval_dmarc - DMARC for every author domain the From fields give, the
 * strictest reading kept (RFC 9989 11.5; docs/ARCHITECTURE.md "Ambiguity").
 * A clean single From is the one-domain case of the same loop. */
static void eval_dmarc(session *s)
{
	const struct format_outcome *fo = &s->fo;
	memset(&s->dmarc, 0, sizeof(s->dmarc));
	s->nauthors = 0;
	struct dmarc_outcome oc;   /* ~3 KB */
	struct dmarc_outcome *o = &oc;
	for (size_t i = 0; i < fo->nauthors; i++) {
		dmarc_one(s, fo->authors[i], o);
		dmarc_consider(s, o, fo->authors[i]);
	}
	if (fo->author_unreadable) {
		dmarc_unread(o, 0);
		dmarc_consider(s, o, "");
	}
	/* several domains and the DNS budget ran out: a domain may have been left
	 * at temperror by the others' lookups, so read the set as incomplete */
	int starved = fo->nauthors > 1 && s->budget.max && s->budget.used >= s->budget.max;
	if (fo->authors_incomplete || starved) {
		dmarc_unread(o, 1);
		dmarc_consider(s, o, "");
	}
	s->dmarc_evaluated = s->nauthors > 0;
	dmarc_findings(&s->dmarc, s->nauthors, s->sigs, s->nsigs, arc_overrides(s) ? s->arc_override : NULL,
	               s->f);
}

/* eval_readiness - the providers' bulk-sender rules over the outcomes. */
static void eval_readiness(session *s)
{
	int dkim_pass = 0, dkim_tmp = 0;
	for (size_t i = 0; i < s->nsigs; i++) {
		dkim_pass |= s->sigs[i].result == AR_PASS;
		dkim_tmp |= s->sigs[i].result == AR_TEMPERROR;
	}
	struct ready_input in = { .spf = s->spf.result, .spf_checked = s->spf_ip[0] != '\0', .dkim_pass = dkim_pass,
	                          .dkim_temperror = dkim_tmp,
	                          .dmarc_record = s->dmarc.record_found, .dmarc = s->dmarc.result,
	                          .format_ok = !findings_has_prefix(s->f, "format."),
	                          .bulk = s->bulk.bulk, .unsub = &s->unsub };
	ready_evaluate(&in, &s->ready);
}

/* eval_from - the header format checks: the single From domain (or why
 * there is none) and every author domain. */
static void eval_from(session *s)
{
	format_check(s->hdrs, s->f, &s->fo);
}

/* eval_spam - iprev for inbound clients, the signal engine, and the
 * direction's thresholds as findings (spam.score.*) for the verdict funnel. */
static void eval_spam(session *s)
{
	if (s->mime == NULL)
		return;
	mime_start(s);
	mime_end(s->mime);
	int out = s->dir == DIR_OUTBOUND;
	if (!out && s->client_ip[0])
		iprev_check(s->env->dns, &s->budget, s->client_ip, &s->iprev);
	struct spam_input in = { .settings = s->env->pol->spam, .dns = s->env->dns, .budget = &s->budget, .outbound = out,
	                         .client_ip = s->client_ip, .helo = s->helo, .our_name = s->env->hostname,
	                         .iprev = s->iprev.result != AR_NONE ? &s->iprev : NULL,
	                         .hdrs = s->hdrs, .fo = &s->fo, .mime = s->mime, .bulk = s->bulk.bulk,
	                         .nrcpt = s->nrcpt,
	                         .now = time(NULL) };
	if (spam_evaluate(&in, &s->spam) < 0) {
		s->failed = 1;   /* no spam verdict is not "no signals": refuse to guess */
		return;
	}
	const struct policy_spam_scores *sc = &s->env->pol->spam_scores[s->dir];
	spam_findings(&s->spam, sc->reject, sc->quarantine, s->f);
}

/* allowlisted - reason text if the client network or a DMARC-authenticated
 * From domain is on an allowlist. */
static const char *allowlisted(const session *s, char *why, size_t whysz)
{
	const struct policy *pol = s->env->pol;
	const struct policy_net *net = policy_net_match(pol->allow_networks, pol->nallow_networks,
	                                                s->client_ip);
	if (net) {
		snprintf(why, whysz, "network %s", net->text);
		return why;
	}
	const char *from = s->fo.from_domain;
	if (s->dmarc.result != AR_PASS || from[0] == '\0')
		return NULL;
	for (size_t i = 0; i < pol->nallow_senders; i++) {
		const char *d = pol->allow_senders[i].name;
		if (dom_at_or_below(from, strlen(from), d, pol->allow_senders[i].len)) {
			snprintf(why, whysz, "sender %s", d);
			return why;
		}
	}
	return NULL;
}

/* decide_each - without a single author domain, the domain rules of every
 * author domain are tried and the strongest decision kept (the message
 * never escapes a rule that a single From of one of its domains would
 * meet). -1 out of memory (the caller decides without domain rules). */
static int decide_each(session *s, struct verdict_input *in)
{
	struct verdict *best = malloc(sizeof(*best));   /* ~10 KB: not on the stack */
	if (best == NULL)
		return -1;
	int have = 0;
	for (size_t i = 0; i < s->nauthors; i++) {
		if (s->authors[i].domain[0] == '\0')
			continue;
		in->from_domain = s->authors[i].domain;
		s->v.reason[0] = '\0';
		verdict_decide(in, &s->v);
		if (!have || verdict_action_rank(s->v.decided) > verdict_action_rank(best->decided))
			memcpy(best, &s->v, sizeof(*best));
		have = 1;
	}
	if (have)
		memcpy(&s->v, best, sizeof(*best));
	free(best);
	in->from_domain = NULL;
	return have ? 0 : -1;
}

/* enforce_forged - forged Authentication-Results or compliance fields past
 * the removal list cannot be removed, so the message cannot be delivered
 * safely: it is rejected whatever dry-run, monitoring or an allowlist say
 * (docs/ARCHITECTURE.md, "Forged results"). */
static void enforce_forged(session *s)
{
	if (!findings_has(s->f, "limits.forged_headers"))
		return;
	s->v.action = s->v.decided = ACT_REJECT;
	s->v.dry_run = 0;
	s->v.hard = 1;
	snprintf(s->v.reason, sizeof(s->v.reason), "limits.forged_headers (not softened by any mode)");
	verdict_set_reply(&s->v, "550 5.7.1 Message carries forged authentication results");
}

/* decide - run the verdict funnel over the findings. */
static void decide(session *s)
{
	const struct policy *pol = s->env->pol;
	const char *names[FINDINGS_MAX];
	size_t nf = findings_count(s->f);
	for (size_t i = 0; i < nf; i++)
		names[i] = findings_get(s->f, i)->name;
	char why[160];
	struct verdict_input in = {
		.finding_names = names, .nfindings = nf,
		.from_domain = s->fo.from_domain[0] ? s->fo.from_domain : NULL,
		.allowlisted = allowlisted(s, why, sizeof(why)),
		.dry_run = pol->mode == POLICY_MONITOR,
		.reject_reply = &pol->reject_reply,
		.tempfail_reply = &pol->tempfail_reply,
		.rules = pol->rules[s->dir], .nrules = pol->nrules[s->dir],
		.domain_rules = pol->domain_rules, .ndomain_rules = pol->ndomain_rules,
	};
	if (s->fo.from_domain[0] || in.ndomain_rules == 0 || s->nauthors < 2 || decide_each(s, &in) < 0)
		verdict_decide(&in, &s->v);
	enforce_forged(s);
}

/* add_seal - the ARC set on top of everything we add (arcseal): the AAR
 * copies our Authentication-Results; the AMS covers our DKIM-Signature
 * fields, made before (eval_dkim) and inserted right below the set. */
static void add_seal(session *s)
{
	const char *sig[SIGNKEYS_PER_MESSAGE];
	size_t nsig = 0;
	while (nsig < SIGNKEYS_PER_MESSAGE && dkimsign_value(s->sign, nsig)) {
		sig[nsig] = dkimsign_value(s->sign, nsig);
		nsig++;
	}
	if (s->seal == NULL || arcseal_end(s->seal, s->hdrs, sig, nsig, s->arc ? &s->arc_out : NULL,
	                                   s->authres, time(NULL), s->f) < 0)
		return;
	for (int k = 0; k < ARCSEAL_FIELDS; k++)
		verdict_add_header(&s->v, arcseal_name((enum arcseal_field)k),
		                   arcseal_value(s->seal, (enum arcseal_field)k));
}

/* add_headers - the ARC set and our DKIM signatures on top, then
 * Authentication-Results, then the compliance header. */
static void add_headers(session *s)
{
	s->authres = authres_build(s);
	add_seal(s);
	for (size_t i = 0; dkimsign_value(s->sign, i); i++)
		verdict_add_header(&s->v, "DKIM-Signature", dkimsign_value(s->sign, i));
	s->compliance = compliance_build(s);
	if (s->authres)
		verdict_add_header(&s->v, "Authentication-Results", s->authres);
	const char *comp = s->env->compliance_name;
	if (s->compliance && comp[0])
		verdict_add_header(&s->v, comp, s->compliance);
	if (s->env->pol->received_spf && s->spf_evaluated) {
		struct spf_request rq = { .ip = s->spf_ip, .helo = s->helo, .mail_from = s->mail_from,
		                          .receiver = s->env->hostname };
		char rs[1024];
		if (spf_received_spf(&s->spf, &rq, rs, sizeof(rs)) == 0)
			verdict_add_header(&s->v, "Received-SPF", rs);
	}
	/* junk: SpamAssassin's flag, which Sieve rules, Dovecot and mail
	 * clients already act on (README: a Sieve rule for the Junk folder) */
	if (s->v.action == ACT_JUNK)
		verdict_add_header(&s->v, "X-Spam-Flag", "YES");
}

/* set_error_reply - the on_error verdict's reply and reason. */
static void set_error_reply(session *s)
{
	snprintf(s->v.reason, sizeof(s->v.reason), "internal error: out of memory");
	verdict_set_reply(&s->v, "451 4.3.0 Internal error, try again later");
	verdict_apply_reply(&s->v, &s->env->pol->tempfail_reply);
}

/* evaluate - the evaluators in dependency order, each adding its own
 * findings; an evaluator that cannot finish sets s->failed. */
static void evaluate(session *s)
{
	eval_from(s);
	eval_spf(s);
	eval_dkim(s);
	eval_arc(s);
	eval_dmarc(s);
	unsub_evaluate(s->hdrs, s->sigs, s->nsigs, s->dmarc.sig_aligned, &s->unsub, s->f);
	bulk_detect(s->hdrs, &s->env->pol->bulk, s->fo.from_domain, &s->bulk);
	bulk_findings(&s->bulk, s->unsub.verdict, s->f);
	eval_spam(s);
	if (s->budget.max && s->budget.used >= s->budget.max)
		findings_add(s->f, "dns.budget_exhausted", "the message needed more than %u DNS queries",
		             s->budget.max);
	eval_readiness(s);
}

/* feedback_after - a report message: past the cap a finding, else
 * feedback.after = discard discards it when every recipient is a report
 * mailbox (a stronger action stays). */
static void feedback_after(session *s)
{
	size_t n;
	if (s->fb == NULL)
		return;
	if (fbcap_data(s->fb, &n) == NULL) {
		findings_add(s->f, "feedback.report.too_large",
		             "report message larger than %u bytes: not stored", FBCAP_MAX);
		return;
	}
	if (s->env->pol->feedback_discard && s->fb_rcpt == s->nrcpt &&
	    verdict_action_rank(s->v.action) < verdict_action_rank(ACT_DISCARD)) {
		s->v.action = s->v.decided = ACT_DISCARD;
		snprintf(s->v.reason, sizeof(s->v.reason), "report message (feedback.after = discard)");
	}
}

/* session_feedback - see session.h. */
const char *session_feedback(const session *s, size_t *len)
{
	return s->evaluated && s->fb ? fbcap_data(s->fb, len) : NULL;
}

/* session_eom - evaluate, then decide; an internal error (allocation)
 * gives policy.on_error instead of a guess. */
const struct verdict *session_eom(session *s)
{
	struct timespec t0;                  /* the latency histogram's start */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!s->in_message)
		start_message(s);
	if (!s->failed)
		evaluate(s);
	if (s->failed) {
		/* without a DKIM verifier we would report "no signature", without
		 * the spam signals "no signals": refuse to guess */
		s->v.action = s->v.decided =
			s->env->pol->on_error == POLICY_ON_ERROR_ACCEPT ? ACT_ACCEPT : ACT_TEMPFAIL;
		set_error_reply(s);
		return &s->v;
	}
	decide(s);
	feedback_after(s);
	add_headers(s);
	s->evaluated = 1;
	record_message(s, &t0);
	return &s->v;
}
