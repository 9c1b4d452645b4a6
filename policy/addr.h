/*
 * addr - RFC 5322 From addresses and RFC 5321 envelope paths.
 *
 * The From parser reports every address it finds (up to ADDR_MAX) instead of
 * guessing which one "counts": several From addresses, a group, a From
 * without a domain are all visible to the caller, which turns them into
 * findings. Domains are returned lowercased, without a trailing dot.
 *
 * What the list parser returns (addr_parse_list):
 *  - local: the local part as written with CFWS removed; a quoted local part
 *    keeps its quotes and backslashes (<"john doe"@x> gives the local part
 *    <"john doe">). Control bytes become '?'; 8-bit bytes are kept.
 *  - domain: lowercased (ASCII), CFWS removed, one trailing dot dropped; a
 *    domain literal keeps its brackets ("[192.0.2.1]"). "" when the address
 *    has no "@domain" ("From: user", "<user>"); that alone is NOT a syntax
 *    error (the caller reports it as a missing domain).
 *  - display: the display name with quotes and quoted-pairs decoded, comments
 *    dropped, runs of CFWS turned into one space, bytes outside printable
 *    ASCII replaced by '?'; RFC 2047 encoded-words are left as written. A
 *    display name longer than the array ends in "..." (cosmetic only).
 *  - bad: set when this address itself was malformed (e.g. "<>", an empty
 *    local part, a broken domain, "John Smith" without brackets, a local part
 *    or domain longer than the array); list syntax_error is then set too.
 *    syntax_error can also be set with no bad address (stray text between
 *    addresses, an unclosed group or comment); parsing resumes after the
 *    next comma so later addresses are still found.
 *  - groups ("team: a@x, b@y;") contribute their members; an empty group
 *    ("undisclosed-recipients:;") contributes none. An input with no address
 *    and no group at all (empty, only comments) sets syntax_error.
 *  - obsolete forms accepted without error: CFWS around dots and '@',
 *    phrases with dots ("John Q. Public"), empty list elements ("a@x,,b@y"),
 *    source routes in angle brackets ("<@r1,@r2:a@b>", route dropped).
 */
#ifndef TM_ADDR_H
#define TM_ADDR_H

#include <stddef.h>

#define ADDR_MAX 16            /* From addresses examined; more is "format.from_too_many" */
#define ADDR_LOCAL_MAX 256
#define ADDR_DOMAIN_MAX 256
#define ADDR_DISPLAY_MAX 256

struct addr {
	char local[ADDR_LOCAL_MAX];
	char domain[ADDR_DOMAIN_MAX];   /* "" when the address has no domain */
	char display[ADDR_DISPLAY_MAX]; /* display name, decoded quotes, printable */
	int bad;                        /* this address was malformed (see above) */
};

struct addr_list {
	size_t count;
	int more;            /* more than ADDR_MAX addresses were present */
	int syntax_error;    /* something could not be parsed */
	struct addr a[ADDR_MAX];  /* the first count are valid; must stay last (see addr.c) */
};

/* addr_parse_list - parse an RFC 5322 address-list/mailbox-list (From, To,
 * Reply-To, Sender) value; returns the number of addresses found. */
size_t addr_parse_list(const char *p, size_t n, struct addr_list *out);
/* addr_parse_path - parse an RFC 5321 reverse/forward path ("<a@b>", "a@b",
 * "<>"); 0 ok (null path gives empty local and domain), -1 malformed.
 * Leading/trailing SP/HTAB are tolerated; a source route ("<@r1,@r2:a@b>") is
 * dropped; ESMTP parameters are not expected (trailing text is -1). A local
 * part without "@domain" ("<postmaster>") is 0 with an empty domain. The
 * local part is kept as written (quotes included); the domain is lowercased
 * without a trailing dot, an address literal keeps its brackets. A local part
 * or domain that does not fit lsz/dsz is -1. On -1 both outputs are "". */
int addr_parse_path(const char *p, size_t n, char *local, size_t lsz, char *domain, size_t dsz);
/* addr_domain_valid - nonzero if (p,n) is a syntactically valid domain name:
 * labels of 1..63 letters, digits, '-' and '_' (underscore for DKIM/DMARC
 * names), not starting or ending with '-', at most 253 characters without
 * the optional trailing dot, no empty label, a last label that is not all
 * digits (so "192.0.2.1" is not a domain); address literals are rejected. */
int addr_domain_valid(const char *p, size_t n);

#endif
