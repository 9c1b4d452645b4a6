/*
 * addr - RFC 5322 From addresses and RFC 5321 envelope paths.
 *
 * The From parser reports every address it finds (up to ADDR_MAX) instead of
 * guessing which one "counts": several From addresses, a group, a From
 * without a domain are all visible to the caller, which turns them into
 * findings. Domains are returned lowercased, without a trailing dot.
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
};

struct addr_list {
	size_t count;
	int more;            /* more than ADDR_MAX addresses were present */
	int syntax_error;    /* something could not be parsed */
	struct addr a[ADDR_MAX];
};

/* addr_parse_list - parse an RFC 5322 address-list/mailbox-list (From, To,
 * Reply-To, Sender) value; returns the number of addresses found. */
size_t addr_parse_list(const char *p, size_t n, struct addr_list *out);
/* addr_parse_path - parse an RFC 5321 reverse/forward path ("<a@b>", "a@b",
 * "<>"); 0 ok (null path gives empty local and domain), -1 malformed. */
int addr_parse_path(const char *p, size_t n, char *local, size_t lsz, char *domain, size_t dsz);
/* addr_domain_valid - nonzero if (p,n) is a syntactically valid domain name. */
int addr_domain_valid(const char *p, size_t n);

#endif
