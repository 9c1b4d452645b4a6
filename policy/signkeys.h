/*
 * signkeys - the DKIM signing keys and settings, loaded once per
 * configuration snapshot (start and reload, from tm_env_new) into an
 * immutable set shared by every message.
 *
 * Keys come from sign.keys ("DOMAIN:SELECTOR:KEYFILE", the native form; two
 * entries for one domain sign twice, e.g. RSA and Ed25519) and from
 * OpenDKIM's KeyTable and SigningTable (keytable.h). A key file is PEM:
 * PKCS#1 ("BEGIN RSA PRIVATE KEY", what opendkim-genkey writes) or PKCS#8
 * ("BEGIN PRIVATE KEY", openssl genpkey); RSA keys of at least
 * sign.min_rsa_bits (2048 by default, never less) and Ed25519 (RFC 8463).
 * A key file readable by others is refused, one readable by its group is
 * loaded with a warning (signkeys_warnings). Every error names the file.
 */
#ifndef TM_SIGNKEYS_H
#define TM_SIGNKEYS_H

#include <stddef.h>
#include "conf.h"
#include "buf.h"

#define SIGNKEYS_PER_MESSAGE 4     /* signatures one message gets at most */

enum signkeys_alg { SIGNKEYS_RSA_SHA256, SIGNKEYS_ED25519_SHA256 };

typedef struct signkeys signkeys;

/* One key chosen for a message. */
struct signkeys_use {
	const char *domain;            /* d= (for a KeyTable "%": the From domain) */
	const char *selector;          /* s= */
	enum signkeys_alg alg;
	unsigned bits;                 /* RSA modulus bits; 256 for Ed25519 */
	void *pkey;                    /* EVP_PKEY (owned by the set) */
	int aligned;                   /* domain is the From domain or a parent of it */
};

/* signkeys_new - the set from the sign.* keys of c; NULL with err ("FILE:
 * ..." naming the key file or table) on any unusable key or table, or when
 * sign.enabled has no key at all. When signing is off (sign.enabled false)
 * an empty set. */
signkeys *signkeys_new(const conf *c, char *err, size_t errlen);
void signkeys_free(signkeys *k);
/* signkeys_enabled - sign.enabled and at least one key. */
int signkeys_enabled(const signkeys *k);
/* signkeys_warnings - warnings of the load ("" none), one per line. */
const char *signkeys_warnings(const signkeys *k);
/* signkeys_for - the keys for an author address local@domain (domain
 * lowercased), at most max, in configuration order: native keys of the
 * domain (else of its closest parent domain), then the first matching
 * SigningTable entry. Unaligned KeyTable keys are returned only with
 * sign.unaligned; *unaligned counts those left out. A KeyTable "%" domain
 * points to domain, which must live as long as the result. */
size_t signkeys_for(const signkeys *k, const char *local, const char *domain,
                    struct signkeys_use *out, size_t max, size_t *unaligned);

/* signkeys_seal - the ARC sealing key (arc.seal_key, loaded with the same
 * checks as sign.keys; signkeys_new fails when arc.seal is not "never" and
 * arc.seal_key is empty) into u; 0, or -1 when there is none. */
int signkeys_seal(const signkeys *k, struct signkeys_use *u);

/* Settings read per message. */
enum signkeys_canon { SIGNKEYS_SIMPLE, SIGNKEYS_RELAXED };
struct signkeys_settings {
	enum signkeys_canon hcanon, bcanon;  /* sign.canonicalization */
	const char *const *headers;          /* sign.headers */
	size_t nheaders;
	const char *const *oversign;         /* sign.oversign */
	size_t noversign;
};
const struct signkeys_settings *signkeys_settings(const signkeys *k);

/* For the key check (trustmilter-check --keys): every configured key with a
 * fixed domain, in configuration order. */
size_t signkeys_count(const signkeys *k);
/* signkeys_get - the i-th; 0, or -1 past the end. path: the key file. */
int signkeys_get(const signkeys *k, size_t i, struct signkeys_use *u, const char **path);
/* signkeys_public_record - the TXT record to publish for key u:
 * "v=DKIM1; k=rsa; p=..." (SubjectPublicKeyInfo, base64) or "k=ed25519"
 * (the raw 32-byte key). 0, or -1. */
int signkeys_public_record(const struct signkeys_use *u, buf *out);
/* signkeys_alg_name - "rsa-sha256" or "ed25519-sha256". */
const char *signkeys_alg_name(enum signkeys_alg a);

#endif
