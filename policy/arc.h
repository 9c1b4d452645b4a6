/*
 * arc - ARC (RFC 8617) chain validation of one inbound message.
 *
 * The ARC sets are read from the header section (hdr_set) at end of
 * headers: every ARC-Seal (AS), ARC-Message-Signature (AMS) and
 * ARC-Authentication-Results (AAR) field, its instance i=, the structure
 * rules of RFC 8617 5.2 steps 1-3 (instances 1..N without gaps or
 * repetition, N <= 50, exactly one field of each kind per instance, cv=none
 * at i=1 and pass above it, no cv=fail). When the structure holds, the body
 * streams through one body hash per distinct (canonicalization, l=) of the
 * AMS fields; at end of message the AMS of instance N is verified (step 4),
 * the older AMS fields for the oldest-pass value (steps 5-6), then every AS
 * from N down to 1 (step 7). Keys come through dns (TXT at
 * s._domainkey.d, for every message) and arckeys, which keeps the checked
 * and decoded key of a record for the next messages; RSA-SHA256 (keys of at
 * least 1024 bits, RFC 8301) and Ed25519-SHA256 (RFC 8463). The seal
 * digests of all instances come from one running hash (the AS of i signs
 * the sets 1..i). Header canonicalization, tags and base64 are dkimcanon's;
 * the body hash is bodyhash's.
 *
 * The result is pass, fail or none with a reason and the finding name of the
 * failure (docs/FINDINGS.md, "arc.*"). Anything malformed, over a cap, or a
 * key that cannot be fetched gives fail: ARC never gives a better outcome
 * for a damaged chain than for none.
 */
#ifndef TM_ARC_H
#define TM_ARC_H

#include <stddef.h>
#include "hdr.h"
#include "dns.h"
#include "result.h"
#include "arckeys.h"

#define ARC_MAX_INSTANCES 50      /* RFC 8617 4.2.1 */
#define ARC_MAX_FIELD_BYTES 16384 /* one ARC field's value: an 8192-bit RSA b= is ~1400
                                   * bytes and an h= list rarely 1000; more is refused */
#define ARC_MAX_BODYHASH 4        /* distinct (body canonicalization, l=) hashed per message */
#define ARC_MAX_KEYS 8            /* distinct keys (d=, s=) fetched per message */
#define ARC_MAX_HEADER_DATA (512 * 1024) /* canonicalized header data one signature hashes */

enum arc_cv { ARC_CV_NONE = 0, ARC_CV_PASS, ARC_CV_FAIL };

struct arc_outcome {
	enum auth_result result;   /* AR_NONE, AR_PASS or AR_FAIL */
	const char *finding;       /* "arc.*" name of the failure, NULL unless fail */
	char reason[160];          /* why it failed ("" otherwise) */
	unsigned instances;        /* N: the highest instance (0: no ARC fields) */
	int oldest_pass;           /* RFC 8617 5.2 step 6: 0 when every AMS validates, else the
	                            * lowest instance from which all AMS up to N validate;
	                            * -1 not determined (not pass, or not asked for) */
	char sealer[256];          /* d= of the ARC-Seal of instance N, "" when unknown */
};

typedef struct arc_verify arc_verify;

/* arc_new - one message; dns may be NULL (every key is "not found": fuzzing,
 * unit tests), budget (may be NULL) is charged for key lookups. keys: the
 * key cache shared by the messages of the configuration (arckeys.h), which
 * must outlive v; NULL gives v a cache of its own. */
arc_verify *arc_new(dns_resolver *dns, dns_budget *budget, arckeys *keys);
void arc_free(arc_verify *v);
/* arc_want_oldest_pass - also determine the oldest-pass value (RFC 8617
 * 5.2 steps 5-6, optional): one more signature verification per older
 * instance. Off by default; call before arc_eom. */
void arc_want_oldest_pass(arc_verify *v, int on);
/* arc_eoh - read the ARC sets of h (which must outlive v's use) and check
 * the structure; start the body hashes. Once; 0, or -1 out of memory. */
int arc_eoh(arc_verify *v, const hdr_set *h);
/* arc_body - the next body chunk in SMTP wire form (CRLF line ends). */
void arc_body(arc_verify *v, const unsigned char *p, size_t n);
/* arc_eom - finish and verify; fills out (always). */
void arc_eom(arc_verify *v, struct arc_outcome *out);

/* arc_sealer - d= of the ARC-Seal of instance i (1..N) into out; 0, or -1
 * when there is no such set. Valid after arc_eoh. */
int arc_sealer(const arc_verify *v, unsigned i, char *out, size_t outsz);
/* arc_aar_authenticates - does the ARC-Authentication-Results of instance i
 * say that the author domain from (organizational domain org, "" for none)
 * authenticated: dmarc=pass with header.from=from, or dkim=pass with a
 * header.d (or header.i domain) at or below org, or spf=pass with an
 * smtp.mailfrom domain at or below org? 1 yes, 0 no. Valid after arc_eoh. */
int arc_aar_authenticates(const arc_verify *v, unsigned i, const char *from, const char *org);

/* arc_override - RFC 8617 7.2 local policy for trusted forwarders, after a
 * pass (o): the ARC-Seal of instance N is by one of the n trusted domains
 * (at or below), and the ARC-Authentication-Results of the oldest instance
 * of the unbroken run of trusted sealers ending at N authenticates the
 * author domain from (arc_aar_authenticates). An untrusted sealer inside
 * the run ends it: its AAR is never the one read. 1 with that instance's
 * sealer in out, else 0. */
struct policy_name;
int arc_override(const arc_verify *v, const struct arc_outcome *o, const struct policy_name *trusted,
                 size_t n, const char *from, const char *org, char *out, size_t outsz);

/* arc_aar_instance - the i= of an ARC-Authentication-Results value (p,n)
 * ("i=N; authserv-id; ..."): N, 0 when there is none or it is not a
 * number, -1 above ARC_MAX_INSTANCES. *rest is set to the offset after
 * its ';'. */
int arc_aar_instance(const char *p, size_t n, size_t *rest);
/* arc_cv_name - "none", "pass", "fail". */
const char *arc_cv_name(enum arc_cv cv);

#endif
