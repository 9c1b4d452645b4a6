/*
 * keytable - OpenDKIM KeyTable and SigningTable parsing; see keytable.h.
 */
#include <stdio.h>
#include <string.h>
#include "keytable.h"
#include "buf.h"

/* line - the next line of (p,n) from *off: its bytes without the line end
 * and without a comment; -1 at the end. */
static int line(const char *p, size_t n, size_t *off, const char **l, size_t *ll)
{
	if (*off >= n)
		return -1;
	const char *s = p + *off;
	const char *e = memchr(s, '\n', n - *off);
	size_t len = e ? (size_t)(e - s) : n - *off;
	*off += len + (e != NULL);
	const char *hash = memchr(s, '#', len);
	if (hash)
		len = (size_t)(hash - s);
	*l = s;
	*ll = len;
	return 0;
}

static int ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

/* field - the next whitespace-separated field of (l,ll) from *i into out;
 * 0 none, 1 found, -1 too long or a NUL. */
static int field(const char *l, size_t ll, size_t *i, char *out, size_t outsz)
{
	while (*i < ll && ws(l[*i]))
		(*i)++;
	size_t s = *i;
	while (*i < ll && !ws(l[*i]))
		(*i)++;
	size_t len = *i - s;
	if (len == 0)
		return 0;
	if (len >= outsz || memchr(l + s, '\0', len))
		return -1;
	memcpy(out, l + s, len);
	out[len] = '\0';
	return 1;
}

/* key_value - "DOMAIN:SELECTOR:PATH" into k; 0, or -1. The path is the
 * rest of the value (it may hold ':'). */
static int key_value(const char *v, struct keytable_key *k)
{
	const char *c1 = strchr(v, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (c2 == NULL || c1 == v || c2 == c1 + 1 || c2[1] == '\0')
		return -1;
	if (str_copy(k->domain, sizeof(k->domain), v, (size_t)(c1 - v)) < 0 ||
	    str_copy(k->selector, sizeof(k->selector), c1 + 1, (size_t)(c2 - c1 - 1)) < 0 ||
	    str_copy(k->path, sizeof(k->path), c2 + 1, strlen(c2 + 1)) < 0)
		return -1;
	return 0;
}

/* two_fields - a line as exactly two fields a, b; 0 blank, 1 found, -1. */
static int two_fields(const char *l, size_t ll, char *a, size_t asz, char *b, size_t bsz)
{
	size_t i = 0;
	int r = field(l, ll, &i, a, asz);
	if (r <= 0)
		return r;
	char extra[2];
	if (field(l, ll, &i, b, bsz) != 1 || field(l, ll, &i, extra, sizeof(extra)) != 0)
		return -1;
	return 1;
}

/* One line's parser: 0 blank, 1 an entry written to out[i], -1 malformed. */
typedef int (*line_fn)(const char *l, size_t ll, void *out, size_t i);

static int key_line(const char *l, size_t ll, void *out, size_t i)
{
	struct keytable_key *k = (struct keytable_key *)out + i;
	char val[KEYTABLE_LINE_MAX];
	int r = two_fields(l, ll, k->name, sizeof(k->name), val, sizeof(val));
	return r <= 0 ? r : key_value(val, k) < 0 ? -1 : 1;
}

static int sign_line(const char *l, size_t ll, void *out, size_t i)
{
	struct keytable_sign *e = (struct keytable_sign *)out + i;
	return two_fields(l, ll, e->pattern, sizeof(e->pattern), e->keyname, sizeof(e->keyname));
}

/* parse - every line of (p,n) through fn into out[max]; the count, or -1
 * with why ("line N: ..."). An entry past max is an error, never dropped. */
static int parse(const char *p, size_t n, line_fn fn, void *out, size_t max, const char *form,
                 char *why, size_t whylen)
{
	size_t off = 0, lineno = 0, cnt = 0;
	const char *l;
	size_t ll;
	while (line(p, n, &off, &l, &ll) == 0) {
		lineno++;
		if (ll >= KEYTABLE_LINE_MAX) {
			snprintf(why, whylen, "line %zu: longer than %d bytes", lineno, KEYTABLE_LINE_MAX);
			return -1;
		}
		char blank[2];
		size_t i = 0;
		if (field(l, ll, &i, blank, sizeof(blank)) == 0)
			continue;
		if (cnt >= max) {
			snprintf(why, whylen, "line %zu: more than %zu entries", lineno, max);
			return -1;
		}
		if (fn(l, ll, out, cnt) != 1) {
			snprintf(why, whylen, "line %zu: not \"%s\"", lineno, form);
			return -1;
		}
		cnt++;
	}
	return (int)cnt;
}

int keytable_parse_keys(const char *p, size_t n, struct keytable_key *out, size_t max,
                        char *why, size_t whylen)
{
	return parse(p, n, key_line, out, max, "KEYNAME DOMAIN:SELECTOR:KEYFILE", why, whylen);
}

int keytable_parse_signing(const char *p, size_t n, struct keytable_sign *out, size_t max,
                           char *why, size_t whylen)
{
	return parse(p, n, sign_line, out, max, "PATTERN KEYNAME", why, whylen);
}

static int lc(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* glob - '*' matches any run; iterative with one backtrack point, so
 * linear in practice and never recursive. */
static int glob(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;
	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat && lc((unsigned char)*pat) == lc((unsigned char)*s)) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return 0;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

int keytable_match(const struct keytable_sign *e, int refile, const char *local,
                   const char *domain)
{
	char addr[600];
	snprintf(addr, sizeof(addr), "%s@%s", local, domain);
	if (refile)
		return glob(e->pattern, addr);
	size_t pl = strlen(e->pattern);
	return mem_caseeq(e->pattern, pl, addr, strlen(addr)) ||
	       mem_caseeq(e->pattern, pl, domain, strlen(domain));
}
