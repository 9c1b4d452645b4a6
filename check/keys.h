/*
 * keys - trustmilter-check --keys: every configured signing key (sign.keys,
 * the OpenDKIM KeyTable) against its selector's TXT record, fetched through
 * the project resolver (policy/dns), like opendkim-testkey for all keys at
 * once.
 */
#ifndef TM_CHECK_KEYS_H
#define TM_CHECK_KEYS_H

#include "session.h"
#include "buf.h"

/* keys_check - one line per key into out: "matching", "different",
 * "missing" (with the record to publish), "too-short", "revoked",
 * "temperror", plus "t=y" when the published record still has it. 0 when
 * every key is published and matching without t=y, 1 otherwise, 2 on an
 * internal error. */
int keys_check(const tm_env *env, buf *out);

#endif
