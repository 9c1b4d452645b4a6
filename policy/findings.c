/*
 * findings - capped list of named findings, and the table of every finding
 * name the code can emit; see findings.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdarg.h>
#include "findings.h"
#include "buf.h"

struct findings {
	size_t count;
	int capped;
	struct finding f[FINDINGS_MAX];
};

findings *findings_new(void) { return calloc(1, sizeof(findings)); }
void findings_free(findings *f) { free(f); }
void findings_reset(findings *f) { f->count = 0; f->capped = 0; }
size_t findings_count(const findings *f) { return f->count; }

const struct finding *findings_get(const findings *f, size_t i)
{
	return i < f->count ? &f->f[i] : NULL;
}

/* findings_has - exact name lookup. */
int findings_has(const findings *f, const char *name)
{
	for (size_t i = 0; i < f->count; i++)
		if (strcmp(f->f[i].name, name) == 0)
			return 1;
	return 0;
}

/* findings_has_prefix - any name starting with prefix. */
int findings_has_prefix(const findings *f, const char *prefix)
{
	size_t n = strlen(prefix);
	for (size_t i = 0; i < f->count; i++)
		if (strncmp(f->f[i].name, prefix, n) == 0)
			return 1;
	return 0;
}

/* findings_add - the last slot is reserved for "limits.findings". */
void findings_add(findings *f, const char *name, const char *fmt, ...)
{
	if (f == NULL || findings_has(f, name))
		return;
	if (f->count >= FINDINGS_MAX - 1) {
		if (!f->capped) {
			f->capped = 1;
			struct finding *x = &f->f[FINDINGS_MAX - 1];
			str_copy(x->name, sizeof(x->name), "limits.findings", 15);
			str_copy(x->detail, sizeof(x->detail), "more findings than the list holds", 33);
			f->count = FINDINGS_MAX;
		}
		return;
	}
	struct finding *x = &f->f[f->count++];
	str_copy(x->name, sizeof(x->name), name, strlen(name));
	char tmp[FINDING_DETAIL_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0)
		tmp[0] = '\0';
	str_printable(x->detail, sizeof(x->detail), tmp, strlen(tmp));
}

/* Every finding name the code emits, sorted (docs/FINDINGS.md documents each;
 * tests/integration/docs.sh fails when the code, this table and the document
 * disagree). Policy rules are checked against it (trustmilter -n). */
static const char *const known[] = {
	"arc.ams_fail", "arc.chain_failed", "arc.incomplete", "arc.key", "arc.seal.failed_upstream",
	"arc.seal.key_error",
	"arc.seal.limit", "arc.seal.too_big", "arc.seal_fail",
	"arc.structure", "arc.syntax", "arc.temperror", "arc.too_many_instances",
	"bulk.no_list_unsubscribe", "bulk.no_one_click", "dkim.fail", "dkim.header_refused",
	"dkim.none", "dkim.not_aligned", "dkim.permerror", "dkim.policy", "dkim.sign.key_error",
	"dkim.sign.malformed", "dkim.sign.no_key", "dkim.sign.too_big", "dkim.temperror",
	"dkim.too_many_signatures", "dmarc.disposition.quarantine", "dmarc.disposition.reject",
	"dmarc.fail", "dmarc.multiple_authors", "dmarc.no_record", "dmarc.override.arc", "dmarc.permerror",
	"dmarc.temperror",
	"dns.budget_exhausted", "envelope.mail_from_syntax",
	"feedback.arf.no_feedback_part", "feedback.arf.no_feedback_type", "feedback.arf.not_arf",
	"feedback.arf.too_large", "feedback.dmarc.bad_value", "feedback.dmarc.doctype",
	"feedback.dmarc.missing_field", "feedback.dmarc.not_feedback", "feedback.dmarc.too_large",
	"feedback.dmarc.too_many_records", "feedback.dmarc.xml_invalid", "feedback.report.too_large",
	"feedback.report.unknown", "feedback.unpack.bomb", "feedback.unpack.corrupt",
	"feedback.unpack.too_large", "feedback.unpack.zip_members", "feedback.unpack.zip_method",
	"format.date_invalid", "format.date_missing", "format.date_weekday_mismatch",
	"format.duplicate_bcc",
	"format.duplicate_cc", "format.duplicate_date", "format.duplicate_from",
	"format.duplicate_in_reply_to", "format.duplicate_message_id",
	"format.duplicate_references", "format.duplicate_reply_to", "format.duplicate_sender",
	"format.duplicate_subject", "format.duplicate_to", "format.empty_message",
	"format.from_domain_invalid", "format.from_missing", "format.from_multiple_addresses",
	"format.from_multiple_fields", "format.from_no_address", "format.from_no_domain",
	"format.from_syntax", "format.from_too_many", "format.header_8bit",
	"format.header_control", "format.header_name", "format.header_nul",
	"format.header_syntax", "format.message_id_invalid", "format.message_id_missing",
	"format.sender_invalid", "format.sender_required", "limits.arc_fields",
	"limits.authres_fields", "limits.compliance_fields", "limits.dkim_signature_fields",
	"limits.findings", "limits.forged_headers", "limits.from_fields", "limits.headers",
	"limits.list_unsubscribe_fields", "limits.sender_fields", "spam.score.quarantine",
	"spam.score.reject", "spf.fail", "spf.neutral", "spf.none", "spf.permerror",
	"spf.softfail", "spf.temperror", "unsub.http_not_https",
	"unsub.multiple_list_unsubscribe", "unsub.no_https", "unsub.not_dkim_covered",
	"unsub.not_dkim_signed", "unsub.post_bad_value", "unsub.post_missing",
	"unsub.post_multiple", "unsub.post_without_list_unsubscribe",
	"unsub.signature_not_aligned", "unsub.syntax", "unsub.too_many_uris",
	"unsub.uri_too_long",
	NULL
};

/* findings_known - see findings.h. */
int findings_known(const char *name)
{
	for (size_t i = 0; known[i]; i++)
		if (strcmp(known[i], name) == 0)
			return 1;
	return 0;
}

/* findings_known_prefix - see findings.h. */
int findings_known_prefix(const char *prefix, size_t n)
{
	for (size_t i = 0; known[i]; i++)
		if (strncmp(known[i], prefix, n) == 0)
			return 1;
	return 0;
}

/* findings_known_name - see findings.h. */
const char *findings_known_name(size_t i)
{
	return i < sizeof(known) / sizeof(known[0]) ? known[i] : NULL;
}

/* Meaning and fix of every known finding, sorted by name: one row per name of
 * known[] (tests/unit/test_core.c checks that, and says which row to add);
 * docs/FINDINGS.md's finding tables are these rows (tests/integration/docs.sh,
 * against trustmilter-check --print-findings). A meaning says what was seen,
 * a fix says what the sender changes, in one line each. */
static const struct finding_help help[] = {
	{ "arc.ams_fail",
	  "the newest ARC-Message-Signature does not verify (body hash or signature) (RFC 8617 5.2 step 4)",
	  "the last forwarder must sign after its own changes (ARC-Message-Signature over the final message)" },
	{ "arc.chain_failed",
	  "an ARC-Seal says `cv=fail`: a forwarder found the chain broken (RFC 8617 5.2 step 2)",
	  "nothing for the original sender: a forwarder found the chain broken; DMARC decides alone" },
	{ "arc.incomplete",
	  "ARC fields were refused by the header caps (`limits.arc_fields`), so the chain cannot be read whole",
	  "nothing for the original sender: the message carries more ARC fields than kept" },
	{ "arc.key",
	  "a key could not be used: no key record, several, revoked, unusable `k=`/`h=`/`s=`, an RSA key under 1024 bits, or more than 8 keys in one chain",
	  "the forwarder must publish one usable key (RSA of at least 1024 bits, better 2048, or Ed25519) at its selector" },
	{ "arc.seal.failed_upstream",
	  "the newest arriving ARC-Seal says `cv=fail`, so no ARC set is added (RFC 8617 5.1 step 1); the message leaves without our ARC set (never rejected for this)",
	  "nothing for the original sender: a forwarder before us found the chain broken" },
	{ "arc.seal.key_error",
	  "sealing failed: the seal key could not sign, or the body hash failed; the message leaves without our ARC set (never rejected for this)",
	  "check arc.seal_key: a readable unencrypted RSA (2048 bits or more) or Ed25519 PEM key; see the daemon log" },
	{ "arc.seal.limit",
	  "the message already carries ARC instance 50 (or an `i=` above it), so no instance can be added (RFC 8617 4.2.1); it leaves without our ARC set",
	  "nothing for the original sender: the message passed through too many forwarders" },
	{ "arc.seal.too_big",
	  "the data of our ARC-Message-Signature or ARC-Seal, or the copied Authentication-Results, exceeds the caps (512 KB of canonical header data, 64 KB per value); the message leaves without our ARC set",
	  "nothing for the original sender: the message carries too many or too large header fields to seal" },
	{ "arc.seal_fail",
	  "an ARC-Seal does not verify (RFC 8617 5.2 step 7)",
	  "the forwarder must publish the sealing key and seal the final ARC set" },
	{ "arc.structure",
	  "a gap or a repeated field in the instances 1..N, or a `cv=` that does not fit (none at 1, pass above) (RFC 8617 5.2 step 3)",
	  "nothing for the original sender: a forwarder added or removed ARC fields out of order" },
	{ "arc.syntax",
	  "an ARC field is not a valid tag list, lacks a required tag (AS: i a b cv d s; AMS: i a b bh d h s), has an invalid `i=`, `c=` or `l=` or more than 128 names in `h=`, an AAR without `i=N;`, or is longer than 16384 bytes",
	  "nothing for the original sender: the forwarder that sealed it must fix its ARC fields" },
	{ "arc.temperror",
	  "a key lookup failed temporarily (DNS error, timeout, the message's query budget); the chain reads as fail, never as pass",
	  "nothing in the message: check again when DNS answers; if it persists, check the sealer's key name servers" },
	{ "arc.too_many_instances",
	  "an `i=` above 50 (RFC 8617 4.2.1)",
	  "nothing for the original sender: the message passed through too many forwarders" },
	{ "bulk.no_list_unsubscribe",
	  "bulk mail (see `bulk_reason`) without any List-Unsubscribe",
	  "add List-Unsubscribe (https) and List-Unsubscribe-Post: List-Unsubscribe=One-Click" },
	{ "bulk.no_one_click",
	  "bulk mail whose List-Unsubscribe is not RFC 8058 compliant (see the `unsub.*` findings)",
	  "fix the unsub.* findings: https URI, List-Unsubscribe-Post, both fields DKIM-signed aligned" },
	{ "dkim.fail",
	  "a signature did not verify (body hash or signature mismatch)",
	  "find what changes the message after signing (footer, line endings, relay) or fix the signer's key" },
	{ "dkim.header_refused",
	  "header fields were not fed to the verifier (size caps, an invalid name or a NUL byte); a signature covering them cannot pass",
	  "send header fields with valid names, without NUL bytes, within the size limits" },
	{ "dkim.none",
	  "the message carries no DKIM-Signature",
	  "sign the mail with DKIM; with an ESP, ask it to sign with d= your own domain" },
	{ "dkim.not_aligned",
	  "a signature passes, but none has a `d=` aligned with the From domain",
	  "sign with d= the From domain (or a subdomain of it); ask the ESP for a custom signing domain" },
	{ "dkim.permerror",
	  "a signature is malformed or its key is missing or unusable",
	  "publish the selector's key record (s._domainkey) and check the signature's tags" },
	{ "dkim.policy",
	  "a signature verified but is not acceptable: rsa-sha1, or an RSA key under 1024 bits (RFC 8301)",
	  "sign with rsa-sha256 and a key of at least 2048 bits (or ed25519 plus RSA)" },
	{ "dkim.sign.key_error",
	  "OpenSSL failed to sign with a loaded key (or the body hash failed); that signature is not made",
	  "check the key file (openssl pkey -in FILE -check) and the log; replace the key" },
	{ "dkim.sign.malformed",
	  "outbound signing is on, but the header section cannot be signed safely (not exactly one From field with one address and domain, or header fields over the caps); the message leaves unsigned",
	  "send exactly one From field with one address, and header fields within the caps" },
	{ "dkim.sign.no_key",
	  "outbound signing is on, but no key fits the From domain (nor a parent domain); the message leaves unsigned",
	  "add a key for the From domain (sign.keys or the KeyTable/SigningTable), or accept unsigned mail from it" },
	{ "dkim.sign.too_big",
	  "the header fields to sign exceed the signer's cap (256 KB of canonical header data, 8 KB of `h=`); that signature is not made",
	  "send fewer or smaller header fields, or sign fewer of them (sign.headers)" },
	{ "dkim.temperror",
	  "the key lookup failed temporarily (SERVFAIL, timeout)",
	  "nothing in the message: check again when DNS answers; if it persists, check the key's name servers" },
	{ "dkim.too_many_signatures",
	  "more signatures than the examined cap (8); the rest were ignored",
	  "sign with at most a few signatures; remove stale ones added along the way" },
	{ "dmarc.disposition.quarantine",
	  "DMARC failed and the applicable policy is quarantine (or reject softened by `t=y`)",
	  "authenticate every legitimate source (aligned DKIM); spoofed mail is meant to be junked" },
	{ "dmarc.disposition.reject",
	  "DMARC failed and the applicable policy (p, sp or np) is reject, and `t=y` does not soften it",
	  "authenticate every legitimate source (aligned DKIM) before keeping p=reject; spoofed mail is meant to be refused" },
	{ "dmarc.fail",
	  "neither SPF nor DKIM passed aligned with the From domain",
	  "make SPF or DKIM pass aligned: DKIM with d= your domain, or a custom return path under your domain" },
	{ "dmarc.multiple_authors",
	  "the From fields give more than one author reading (several domains, a From without a domain, or more than could be read); DMARC was evaluated for each and the strictest applies (docs/ARCHITECTURE.md, \"Ambiguity\")",
	  "put exactly one author address in From" },
	{ "dmarc.no_record",
	  "no DMARC record for the From domain or its organizational domain",
	  "publish a DMARC record at _dmarc.DOMAIN, starting with p=none and a rua= address" },
	{ "dmarc.override.arc",
	  "DMARC failed with a reject or quarantine disposition, but a trusted forwarder vouches for the message (`arc.trusted_sealers`): the ARC chain passes, its newest seal is by a trusted domain, and the ARC-Authentication-Results of the oldest instance of the unbroken run of trusted sealers shows DMARC, or an aligned DKIM or SPF, passing for the From domain (RFC 8617 7.2). It replaces `dmarc.disposition.*`; `arc.override_action` gives its action (default accept). Only for a single author domain on inbound mail",
	  "nothing to fix: a trusted forwarder vouched for the original sender (remove it from arc.trusted_sealers to stop this)" },
	{ "dmarc.permerror",
	  "the policy record is unusable (for example several records at one name)",
	  "publish exactly one valid v=DMARC1 record at _dmarc.DOMAIN" },
	{ "dmarc.temperror",
	  "DNS failed temporarily during policy discovery; never reported as fail",
	  "nothing in the message: check again when DNS answers; if it persists, check the _dmarc name servers" },
	{ "dns.budget_exhausted",
	  "the message needed more DNS queries than `dns.max_queries`; later lookups failed temporarily",
	  "reduce the DNS lookups the mail needs (flatten SPF includes) or raise dns.max_queries" },
	{ "envelope.mail_from_syntax",
	  "the MAIL FROM path cannot be parsed",
	  "send a valid MAIL FROM:<user@domain> (or <> for bounces)" },
	{ "feedback.arf.no_feedback_part",
	  "the report has no `message/feedback-report` part",
	  "ask the feedback loop for RFC 5965 reports (message/feedback-report part)" },
	{ "feedback.arf.no_feedback_type",
	  "the feedback part has no usable `Feedback-Type`",
	  "ask the feedback loop for RFC 5965 reports with Feedback-Type" },
	{ "feedback.arf.not_arf",
	  "the message is not `multipart/report; report-type=feedback-report`",
	  "route only the feedback loop's ARF mail to the report address" },
	{ "feedback.arf.too_large",
	  "the ARF message is over 4 MiB",
	  "ask the feedback loop for header-only reports (text/rfc822-headers)" },
	{ "feedback.dmarc.bad_value",
	  "a `count`, `begin` or `end` that is not a decimal number (at most 18 digits)",
	  "ask the reporter to send decimal count, begin and end values" },
	{ "feedback.dmarc.doctype",
	  "the XML holds a document type declaration or an entity reference (no report needs one; entity expansion is never done)",
	  "nothing to fix: such XML is refused by design (entity expansion attack)" },
	{ "feedback.dmarc.missing_field",
	  "no reporter (`org_name`, nor an `email` to name it), `report_id`, policy `domain`, a period that ends before it begins, or a record without `source_ip` or `header_from`",
	  "ask the reporter to send the RFC 9990 required fields" },
	{ "feedback.dmarc.not_feedback",
	  "the root element is not `<feedback>`",
	  "ingest only DMARC aggregate reports (root element feedback)" },
	{ "feedback.dmarc.too_large",
	  "the XML is over 32 MiB",
	  "nothing to fix on our side: ask the reporter for daily reports" },
	{ "feedback.dmarc.too_many_records",
	  "more than 20000 `<record>` elements",
	  "nothing to fix on our side: split reports are ingested one by one" },
	{ "feedback.dmarc.xml_invalid",
	  "the XML is not well-formed, or nests deeper than 16 elements",
	  "ask the reporter to fix its XML; nothing is stored from it" },
	{ "feedback.report.too_large",
	  "the message or file is over 16 MiB",
	  "nothing to fix on our side: ask the reporter for smaller reports" },
	{ "feedback.report.unknown",
	  "neither an ARF report nor a message or file carrying a DMARC aggregate report",
	  "ingest only ARF reports and DMARC aggregate reports (check the mailbox routing)" },
	{ "feedback.unpack.bomb",
	  "past 1 MiB the decompressed report grew more than 200 times its compressed size: a compression bomb",
	  "nothing to fix: a compression bomb is refused by design" },
	{ "feedback.unpack.corrupt",
	  "the gzip or zip data is broken or truncated, or uses ZIP64",
	  "ask the reporter to resend; check the report was saved whole" },
	{ "feedback.unpack.too_large",
	  "the report decompresses (or decodes) to more than the cap (32 MiB of XML, 8 MiB for an attachment)",
	  "nothing to fix on our side: a report this large is refused by design" },
	{ "feedback.unpack.zip_members",
	  "the zip archive holds more (or fewer) than one member",
	  "unpack the archive and ingest each XML file" },
	{ "feedback.unpack.zip_method",
	  "the zip member is encrypted or compressed with a method other than stored or deflate",
	  "unpack the archive with another tool and ingest the XML" },
	{ "format.date_invalid",
	  "Date is not an RFC 5322 date-time",
	  "write Date in RFC 5322 form, e.g. Mon, 07 Dec 2026 09:30:00 +0100" },
	{ "format.date_missing",
	  "no Date field",
	  "add a Date field (the sending software or the submission server sets it)" },
	{ "format.date_weekday_mismatch",
	  "the day of the week does not match the date",
	  "correct the weekday (or drop it) in the Date field" },
	{ "format.duplicate_bcc",
	  "more than one Bcc field (RFC 5322 3.6 allows one)",
	  "send exactly one Bcc field" },
	{ "format.duplicate_cc",
	  "more than one Cc field (RFC 5322 3.6 allows one)",
	  "send exactly one Cc field" },
	{ "format.duplicate_date",
	  "more than one Date field (RFC 5322 3.6 allows one)",
	  "send exactly one Date field" },
	{ "format.duplicate_from",
	  "more than one From field (RFC 5322 3.6 allows one)",
	  "send exactly one From field" },
	{ "format.duplicate_in_reply_to",
	  "more than one In-Reply-To field (RFC 5322 3.6 allows one)",
	  "send exactly one In-Reply-To field" },
	{ "format.duplicate_message_id",
	  "more than one Message-ID field (RFC 5322 3.6 allows one)",
	  "send exactly one Message-ID field" },
	{ "format.duplicate_references",
	  "more than one References field (RFC 5322 3.6 allows one)",
	  "send exactly one References field" },
	{ "format.duplicate_reply_to",
	  "more than one Reply-To field (RFC 5322 3.6 allows one)",
	  "send exactly one Reply-To field" },
	{ "format.duplicate_sender",
	  "more than one Sender field (RFC 5322 3.6 allows one)",
	  "send exactly one Sender field" },
	{ "format.duplicate_subject",
	  "more than one Subject field (RFC 5322 3.6 allows one)",
	  "send exactly one Subject field" },
	{ "format.duplicate_to",
	  "more than one To field (RFC 5322 3.6 allows one)",
	  "send exactly one To field" },
	{ "format.empty_message",
	  "the input holds no message at all",
	  "give a complete message (header fields, empty line, body)" },
	{ "format.from_domain_invalid",
	  "a From domain is an address literal or not a valid name",
	  "use a registered domain name in the From address" },
	{ "format.from_missing",
	  "no From field (RFC 5322 3.6)",
	  "add a From field with the sender's address" },
	{ "format.from_multiple_addresses",
	  "From holds more than one address",
	  "put exactly one address in From" },
	{ "format.from_multiple_fields",
	  "more than one From field",
	  "send exactly one From field" },
	{ "format.from_no_address",
	  "From holds no address",
	  "put the sender's address in From" },
	{ "format.from_no_domain",
	  "a From address has no domain",
	  "write the From address in full, user@domain" },
	{ "format.from_syntax",
	  "the From field is not a clean mailbox-list",
	  "write From as Name <user@example.com> (quote names with special characters)" },
	{ "format.from_too_many",
	  "From holds more addresses than the cap (16)",
	  "put exactly one address in From" },
	{ "format.header_8bit",
	  "raw non-ASCII bytes in a header value (legal only with SMTPUTF8, RFC 6532)",
	  "encode non-ASCII header text (RFC 2047) or send with SMTPUTF8" },
	{ "format.header_control",
	  "control bytes in a header value",
	  "remove control characters from header values" },
	{ "format.header_name",
	  "a header field name with characters RFC 5322 does not allow",
	  "use header names of printable ASCII without spaces or colons" },
	{ "format.header_nul",
	  "a NUL byte in a header value",
	  "remove NUL bytes from header values" },
	{ "format.header_syntax",
	  "a line in the header section that is not a header field (the body is taken to start there, as Postfix does)",
	  "end the header section with an empty line; every header line needs a name and a colon" },
	{ "format.message_id_invalid",
	  "Message-ID is not one msg-id",
	  "write Message-ID as one <unique@your.domain>" },
	{ "format.message_id_missing",
	  "no Message-ID field",
	  "add a Message-ID <unique@your.domain>" },
	{ "format.sender_invalid",
	  "Sender is not exactly one mailbox with a domain",
	  "make Sender exactly one address with a domain" },
	{ "format.sender_required",
	  "several From addresses but no Sender (RFC 5322 3.6.2)",
	  "add a Sender field naming the one actual sender, or keep one From address" },
	{ "limits.arc_fields",
	  "more ARC-* fields than kept (150, 64 KB)",
	  "limit the ARC sets added along the forwarding path" },
	{ "limits.authres_fields",
	  "more Authentication-Results fields than kept (64, 64 KB); forged ones are still removed up to the removal cap",
	  "remove stale Authentication-Results fields before relaying" },
	{ "limits.compliance_fields",
	  "more compliance fields (`header.compliance`) than kept (64, 32 KB)",
	  "remove stale compliance fields before relaying" },
	{ "limits.dkim_signature_fields",
	  "more DKIM-Signature fields than kept (64, 64 KB)",
	  "sign with a few signatures only" },
	{ "limits.findings",
	  "more findings than the list holds (64)",
	  "fix the findings listed first; the rest were not kept" },
	{ "limits.forged_headers",
	  "more forged Authentication-Results (64) or compliance fields (64) than the removal list holds; the message is **rejected in every mode** (dry-run, monitor and allowlists do not soften it), as it cannot be delivered without them",
	  "nothing for the sender to fix: the message carries forged authentication fields on purpose" },
	{ "limits.from_fields",
	  "more From fields than kept (16 fields, 32 KB); an author domain may be unseen, so DMARC reads the message as failing a reject policy",
	  "send exactly one From field" },
	{ "limits.headers",
	  "the header section exceeded `limits.header_count` or `limits.header_bytes`; the rest was not kept (protected fields are kept regardless: the `limits.*_fields` caps below)",
	  "send fewer or smaller header fields (or raise limits.header_count / limits.header_bytes)" },
	{ "limits.list_unsubscribe_fields",
	  "more List-Unsubscribe or List-Unsubscribe-Post fields than kept (8 each; 16 KB and 4 KB)",
	  "send one List-Unsubscribe and one List-Unsubscribe-Post field" },
	{ "limits.sender_fields",
	  "more Sender fields than kept (16, 16 KB)",
	  "send at most one Sender field" },
	{ "spam.score.quarantine",
	  "the spam score reached the direction's `spam.*.quarantine_score` (and not the reject score)",
	  "look at the spam signals listed with the message and remove their causes" },
	{ "spam.score.reject",
	  "the spam score reached the direction's `spam.*.reject_score`",
	  "look at the spam signals listed with the message and remove their causes" },
	{ "spf.fail",
	  "the sending address is not authorised by the SPF record (`-all` matched)",
	  "add the sending server's address (or the ESP's include:) to the SPF record of the MAIL FROM domain" },
	{ "spf.neutral",
	  "the record makes no assertion (`?all`)",
	  "list the sending servers in the SPF record and end it with ~all or -all" },
	{ "spf.none",
	  "no SPF record, no usable identity, or no client address to check",
	  "publish an SPF record for the MAIL FROM domain (or check with --client-ip/--from-received)" },
	{ "spf.permerror",
	  "the record is broken: syntax, more than 10 DNS-querying terms, more than 2 void lookups, several records",
	  "repair the SPF record: one record, valid syntax, at most 10 DNS-querying terms (flatten includes)" },
	{ "spf.softfail",
	  "the record says \"probably not authorised\" (`~all`)",
	  "add the sending server to the SPF record, then end it with -all once every sender is listed" },
	{ "spf.temperror",
	  "a DNS failure (SERVFAIL, timeout) while evaluating: try again later",
	  "nothing in the message: check again when DNS answers; if it persists, check the domain's name servers" },
	{ "unsub.http_not_https",
	  "a plain http URI is offered; one-click needs https",
	  "serve the unsubscribe URI over https" },
	{ "unsub.multiple_list_unsubscribe",
	  "more than one List-Unsubscribe field: ambiguous, not guessed",
	  "send one List-Unsubscribe field listing every URI" },
	{ "unsub.no_https",
	  "no https URI (RFC 8058 requires one for one-click)",
	  "add an https unsubscribe URI to List-Unsubscribe" },
	{ "unsub.not_dkim_covered",
	  "no passing signature lists both List-Unsubscribe and List-Unsubscribe-Post in `h=`",
	  "add List-Unsubscribe and List-Unsubscribe-Post to the DKIM signature's h= list" },
	{ "unsub.not_dkim_signed",
	  "no DKIM signature passes, so nothing vouches for the unsubscribe fields",
	  "sign the mail with DKIM (d= your domain), covering both unsubscribe fields" },
	{ "unsub.post_bad_value",
	  "List-Unsubscribe-Post is not exactly `List-Unsubscribe=One-Click`",
	  "set List-Unsubscribe-Post to exactly List-Unsubscribe=One-Click" },
	{ "unsub.post_missing",
	  "List-Unsubscribe is present, List-Unsubscribe-Post is not",
	  "add List-Unsubscribe-Post: List-Unsubscribe=One-Click" },
	{ "unsub.post_multiple",
	  "more than one List-Unsubscribe-Post field",
	  "send exactly one List-Unsubscribe-Post field" },
	{ "unsub.post_without_list_unsubscribe",
	  "List-Unsubscribe-Post without List-Unsubscribe",
	  "add a List-Unsubscribe field with an https URI, or drop List-Unsubscribe-Post" },
	{ "unsub.signature_not_aligned",
	  "a passing signature covers both fields but its `d=` does not align with the From domain",
	  "sign with d= the From domain; ask the ESP for a custom signing domain" },
	{ "unsub.syntax",
	  "List-Unsubscribe is not a comma list of `<URI>`",
	  "write List-Unsubscribe as <https://...>, <mailto:...> (angle brackets, commas)" },
	{ "unsub.too_many_uris",
	  "more URIs than the cap (8)",
	  "offer one https and at most one mailto URI" },
	{ "unsub.uri_too_long",
	  "a URI longer than the cap (2048 bytes)",
	  "shorten the unsubscribe URI below 2048 bytes (an opaque token instead of data)" },
};

/* findings_help - binary search in help[]. */
const struct finding_help *findings_help(const char *name)
{
	size_t lo = 0, hi = sizeof(help) / sizeof(help[0]);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, help[mid].name);
		if (c == 0)
			return &help[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* findings_help_row - see findings.h. */
const struct finding_help *findings_help_row(size_t i)
{
	return i < sizeof(help) / sizeof(help[0]) ? &help[i] : NULL;
}
