/*
 * cidr - IPv4/IPv6 network lists ("192.0.2.0/24", "2001:db8::/32", bare
 * addresses). IPv4-mapped IPv6 clients match IPv4 networks.
 */
#ifndef TM_CIDR_H
#define TM_CIDR_H

#include <stddef.h>

/* cidr_valid - nonzero if s is a valid address or network. */
int cidr_valid(const char *s);
/* cidr_match - nonzero if the textual ip lies in network s. */
int cidr_match(const char *s, const char *ip);
/* cidr_match_list - index+1 of the first matching network, 0 if none. */
size_t cidr_match_list(const char *const *list, size_t n, const char *ip);

/* A network parsed once (IPv4 as ::ffff:0:0/96 plus its length). */
struct cidr {
	unsigned char net[16];
	unsigned bits;
};

/* cidr_parse - "addr[/len]" into n; nonzero if valid. */
int cidr_parse(const char *s, struct cidr *n);
/* cidr_addr - a client address into 16 bytes (IPv4 mapped); nonzero if valid. */
int cidr_addr(const char *ip, unsigned char out[16]);
/* cidr_contains - nonzero if the address (from cidr_addr) lies in n. */
int cidr_contains(const struct cidr *n, const unsigned char a[16]);

#endif
