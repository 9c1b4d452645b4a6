/*
 * dkim - DKIM verification (RFC 6376, RFC 8301, RFC 8463) with libopendkim,
 * all key lookups through our dns resolver, the body hash our own
 * (bodyhash.h).
 *
 * dkim_engine is the process-wide libopendkim handle (created once, before any
 * thread starts, with the DNS hooks bound to a dns_resolver). A dkim_verify is
 * one message: feed it every header as received, then end of headers, body
 * chunks in SMTP wire form (CRLF line ends), then end of message; afterwards
 * read one dkim_sig per signature (up to DKIM_MAX_SIGS examined; more is the
 * finding "dkim.too_many_signatures").
 *
 * Results: pass only when the signature verifies, the body hash matches, the
 * algorithm is not rsa-sha1 and an RSA key has at least 1024 bits (RFC 8301).
 * A DNS failure other than NXDOMAIN gives temperror, never "no key".
 */
#ifndef TM_DKIM_H
#define TM_DKIM_H

#include <stddef.h>
#include "result.h"
#include "dns.h"
#include "findings.h"

#define DKIM_MAX_SIGS 8            /* signatures examined per message */
#define DKIM_MAX_SIGNED_HEADERS 64 /* h= entries kept per signature */
#define DKIM_MAX_FIELD_BYTES 65536 /* one header field fed to libopendkim ("Name:value");
                                    * far above any real field, keeps the 2015-era library's
                                    * buffers small (see design.md on dkim_ohdrs) */
#define DKIM_MAX_HEADER_BYTES (1024 * 1024) /* all header fields of one message */
#define DKIM_MAX_FIELDS 2000       /* header fields of one message */

struct dkim_sig {
	enum auth_result result;       /* pass, fail, neutral, temperror, permerror, policy */
	char domain[256];              /* d= (lowercased) */
	char selector[128];            /* s= */
	char algorithm[32];            /* a=, e.g. "rsa-sha256", "ed25519-sha256" */
	unsigned key_bits;             /* 0 when unknown */
	char b_prefix[16];             /* first 8+ chars of b= for header.b */
	char identity[256];            /* i= if present */
	char reason[128];              /* why it did not pass ("body hash mismatch", "key too short", ...) */
	size_t nsigned;                /* entries in signed[] */
	char signed_headers[DKIM_MAX_SIGNED_HEADERS][64]; /* h= list, lowercased, in order */
	int covers_list_unsubscribe;      /* h= names List-Unsubscribe */
	int covers_list_unsubscribe_post; /* h= names List-Unsubscribe-Post */
	int signed_headers_capped;     /* h= had more than DKIM_MAX_SIGNED_HEADERS entries or
	                                * an entry longer than 63 bytes (covers_* still see all) */
	int signed_here;               /* made by our signer for this outbound message
	                                * (dkimsign.h), not verified from the message */
};

typedef struct dkim_engine dkim_engine;
typedef struct dkim_verify dkim_verify;

/* dkim_engine_new - once per process, before threads; NULL with err on failure. */
dkim_engine *dkim_engine_new(dns_resolver *dns, char *err, size_t errlen);
void dkim_engine_free(dkim_engine *e);

/* dkim_verify_new - one message; budget (may be NULL) is charged for key lookups. */
dkim_verify *dkim_verify_new(dkim_engine *e, dns_budget *budget);
void dkim_verify_free(dkim_verify *v);
/* dkim_verify_header - one field, name and raw value as received (value
 * without the leading ':'; folding as received). 0 ok, -1 refused. */
int dkim_verify_header(dkim_verify *v, const char *name, size_t nlen, const char *value, size_t vlen);
int dkim_verify_eoh(dkim_verify *v);
int dkim_verify_body(dkim_verify *v, const unsigned char *p, size_t n);
/* dkim_verify_eom - finish; afterwards dkim_verify_count/sig are valid. */
int dkim_verify_eom(dkim_verify *v);
size_t dkim_verify_count(const dkim_verify *v);
/* dkim_verify_sig - the i-th result, NULL past the end; the results are an
 * array (&sig(v, 0)[i] == sig(v, i)) that lives as long as v. */
const struct dkim_sig *dkim_verify_sig(const dkim_verify *v, size_t i);
/* dkim_verify_ignored - signatures present beyond DKIM_MAX_SIGS. */
size_t dkim_verify_ignored(const dkim_verify *v);
/* dkim_verify_refused - header fields not fed to the verifier: over a cap
 * (DKIM_MAX_FIELD_BYTES, DKIM_MAX_HEADER_BYTES, DKIM_MAX_FIELDS), an invalid
 * field name, or a NUL byte (finding "dkim.header_refused"). A signature
 * covering a refused field cannot pass. */
size_t dkim_verify_refused(const dkim_verify *v);
/* dkim_verify_results - after eom: the results (at most DKIM_MAX_SIGS) in
 * *sigs, their count returned, and their findings into f
 * (dkim.too_many_signatures, dkim.header_refused, and
 * dkim.fail/temperror/permerror/policy per signature that does not pass).
 * dkim.none is the session's, after outbound signing (session.c). */
size_t dkim_verify_results(const dkim_verify *v, const struct dkim_sig **sigs, findings *f);

/* dkim_hlist_parse - parse an h= tag value (p, n): names separated by ':',
 * FWS around names ignored, lowercased into s->signed_headers (nsigned,
 * signed_headers_capped) and the covers_* flags set. Empty names are skipped.
 * Returns the number of names seen (also those past the cap). */
size_t dkim_hlist_parse(const char *p, size_t n, struct dkim_sig *s);

#endif
