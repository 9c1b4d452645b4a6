/*
 * received - one Received: field's from name, client address and by name;
 * see received.h. The field is the receiving server's own text, so it is read
 * leniently (any spacing, comments anywhere, tokens in any case), but every
 * copy is bounded and an address counts only when it parses as one.
 */
#include <string.h>
#include <strings.h>
#include "buf.h"
#include "cidr.h"
#include "lex5322.h"
#include "received.h"

#define COMMENT_DEPTH_MAX 8      /* "(a (b (c)))": deeper is not a TCP-info comment */

/* is_sp - folding white space and the line ends of a raw value. */
static int is_sp(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static size_t skip_sp(const char *v, size_t n, size_t i)
{
	while (i < n && is_sp(v[i]))
		i++;
	return i;
}

/* keyword - is the word at i exactly kw (any case), followed by space, '(' or the end? */
static int keyword(const char *v, size_t n, size_t i, const char *kw)
{
	size_t k = strlen(kw);
	return n - i >= k && strncasecmp(v + i, kw, k) == 0 &&
	       (i + k == n || is_sp(v[i + k]) || v[i + k] == '(');
}

/* word_end - end of the token at i: up to space or '('. */
static size_t word_end(const char *v, size_t n, size_t i)
{
	while (i < n && !is_sp(v[i]) && v[i] != '(')
		i++;
	return i;
}

/* try_ip - (p, len) as an address, "IPv6:" and brackets taken off; 1 if valid. */
static int try_ip(const char *p, size_t len, char *out, size_t outsz)
{
	if (len && p[0] == '[')
		p++, len--;
	if (len && p[len - 1] == ']')
		len--;
	if (len > 5 && strncasecmp(p, "IPv6:", 5) == 0)
		p += 5, len -= 5;
	char tmp[RECEIVED_IP_MAX];
	unsigned char a[16];
	if (len == 0 || str_copy(tmp, sizeof(tmp), p, len) < 0 || !cidr_addr(tmp, a))
		return 0;
	return str_copy(out, outsz, tmp, strlen(tmp)) == 0;
}

/* comment_end - index after the comment opening at i ('('), n if unclosed or too deep. */
static size_t comment_end(const char *v, size_t n, size_t i)
{
	lex_comment(v, n, &i, COMMENT_DEPTH_MAX);
	return i;
}

/* tcp_info - the client address in the comment (a, b): the first bracketed
 * literal, else the first word that is an address ("(2603:10a6::1)"). */
static int tcp_info(const char *v, size_t a, size_t b, char *ip, size_t ipsz)
{
	for (size_t i = a; i < b; i++)
		if (v[i] == '[') {
			const char *close = memchr(v + i, ']', b - i);
			if (close && try_ip(v + i, (size_t)(close - v - i) + 1, ip, ipsz))
				return 1;
		}
	for (size_t i = a; i < b;) {
		i = skip_sp(v, b, i);
		size_t e = i;
		while (e < b && !is_sp(v[e]) && v[e] != '(' && v[e] != ')')
			e++;
		if (e > i && try_ip(v + i, e - i, ip, ipsz))
			return 1;
		i = e > i ? e : e + 1;
	}
	return 0;
}

/* received_parse - see received.h. */
int received_parse(const char *v, size_t n, struct received *out)
{
	memset(out, 0, sizeof(*out));
	size_t i = skip_sp(v, n, 0);
	if (keyword(v, n, i, "from")) {
		i = skip_sp(v, n, i + 4);
		size_t e = word_end(v, n, i);
		str_printable(out->helo, sizeof(out->helo), v + i, e - i);
		i = skip_sp(v, n, e);
		if (i < n && v[i] == '(') {
			size_t ce = comment_end(v, n, i);
			tcp_info(v, i + 1, ce > i + 1 && ce <= n && v[ce - 1] == ')' ? ce - 1 : ce, out->ip,
			         sizeof(out->ip));
			i = ce;
		}
	}
	for (i = skip_sp(v, n, i); i < n; i = skip_sp(v, n, i)) {
		if (keyword(v, n, i, "by")) {
			i = skip_sp(v, n, i + 2);
			size_t e = word_end(v, n, i);
			str_printable(out->by, sizeof(out->by), v + i, e - i);
			break;
		}
		i = v[i] == '(' ? comment_end(v, n, i) : word_end(v, n, i);   /* always moves on */
	}
	return out->helo[0] && out->ip[0] ? 0 : -1;
}
