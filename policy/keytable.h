/*
 * keytable - OpenDKIM's KeyTable and SigningTable files, parsed from memory
 * (p, n) so that an administrator migrating from OpenDKIM points trustmilter
 * at the files already in place.
 *
 * KeyTable lines: "KEYNAME DOMAIN:SELECTOR:KEYPATH". DOMAIN may be "%", the
 * domain of the message being signed. SigningTable lines: "PATTERN KEYNAME".
 * In the plain form PATTERN is an address ("user@example.com") or a domain
 * ("example.com"); in the refile form it is a pattern in which '*' matches
 * any run of characters ("*@example.com", "*"). '#' starts a comment; blank
 * lines are skipped. Matching is ASCII case-insensitive.
 *
 * Caps: KEYTABLE_MAX entries per file, KEYTABLE_LINE_MAX bytes per line,
 * each field its own size; past a cap the file is refused with the line
 * number, never cut.
 */
#ifndef TM_KEYTABLE_H
#define TM_KEYTABLE_H

#include <stddef.h>

#define KEYTABLE_MAX 1024          /* entries in one file */
#define KEYTABLE_LINE_MAX 4096     /* bytes in one line */

struct keytable_key {
	char name[128];            /* KEYNAME */
	char domain[254];          /* DOMAIN, or "%" */
	char selector[64];
	char path[1024];
};

struct keytable_sign {
	char pattern[320];         /* address, domain or refile pattern */
	char keyname[128];
};

/* keytable_parse_keys - a KeyTable; the number of entries (at most max), or
 * -1 with why ("line N: ..."). */
int keytable_parse_keys(const char *p, size_t n, struct keytable_key *out, size_t max,
                        char *why, size_t whylen);
/* keytable_parse_signing - a SigningTable; the number of entries, or -1. */
int keytable_parse_signing(const char *p, size_t n, struct keytable_sign *out, size_t max,
                           char *why, size_t whylen);
/* keytable_match - does the SigningTable entry's pattern select the author
 * address local@domain? refile: '*' wildcards over "local@domain"; plain:
 * the whole address, or the domain. */
int keytable_match(const struct keytable_sign *e, int refile, const char *local,
                   const char *domain);

#endif
