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

#endif
