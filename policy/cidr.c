/*
 * cidr - network membership tests for allowlists and direction rules.
 */
#include <string.h>
#include <stdlib.h>
#include <arpa/inet.h>
#include "cidr.h"

/* parse_ip - text to 16 bytes (IPv4 mapped into ::ffff:0:0/96); family 4 or 6, 0 bad. */
static int parse_ip(const char *s, size_t n, unsigned char out[16])
{
	char tmp[64];
	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	static const unsigned char mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
	if (inet_pton(AF_INET, tmp, out + 12) == 1) {
		memcpy(out, mapped, 12);
		return 4;
	}
	if (inet_pton(AF_INET6, tmp, out) == 1)
		return memcmp(out, mapped, 12) == 0 ? 4 : 6;
	return 0;
}

/* parse_net - "addr[/len]" into bytes and a prefix length over 128 bits. */
static int parse_net(const char *s, unsigned char net[16], unsigned *bits)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	int fam = parse_ip(s, alen, net);
	if (fam == 0)
		return 0;
	unsigned max = fam == 4 ? 32 : 128;
	unsigned len = max;
	if (slash) {
		char *end;
		long l = strtol(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || l < 0 || (unsigned long)l > max)
			return 0;
		len = (unsigned)l;
	}
	*bits = fam == 4 ? len + 96 : len;
	return fam;
}

int cidr_valid(const char *s)
{
	unsigned char net[16];
	unsigned bits;
	return parse_net(s, net, &bits) != 0;
}

int cidr_parse(const char *s, struct cidr *n)
{
	return parse_net(s, n->net, &n->bits) != 0;
}

int cidr_addr(const char *ip, unsigned char out[16])
{
	return ip != NULL && parse_ip(ip, strlen(ip), out) != 0;
}

/* cidr_contains - compare the first bits of both addresses. */
int cidr_contains(const struct cidr *n, const unsigned char a[16])
{
	unsigned full = n->bits / 8, rest = n->bits % 8;
	if (memcmp(n->net, a, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (n->net[full] & mask) == (a[full] & mask);
}

/* cidr_match - one network in text against one address in text. */
int cidr_match(const char *s, const char *ip)
{
	struct cidr n;
	unsigned char a[16];
	return cidr_parse(s, &n) && cidr_addr(ip, a) && cidr_contains(&n, a);
}

size_t cidr_match_list(const char *const *list, size_t n, const char *ip)
{
	for (size_t i = 0; i < n; i++)
		if (cidr_match(list[i], ip))
			return i + 1;
	return 0;
}
