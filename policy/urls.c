/*
 * urls - URL and link extraction for the spam signals; see urls.h.
 *
 * The HTML side is a tolerant tag scanner, not an HTML parser: it needs only
 * the href of anchors and their text (to compare the domain a link shows with
 * the one it goes to), <img> tags and the amount of visible text. Malformed
 * markup (unclosed tags, quotes, comments) ends at the end of the input and
 * never reads past it. Everything is bounded by the caller's text cap and
 * the URL cap; link text is examined up to URL_LINKTEXT_MAX bytes.
 */
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "urls.h"
#include "buf.h"

#define HREF_MAX 2048         /* an href is cut here; the host is near its start */

/* Words that make a link an unsubscribe link, in link text or in the URL,
 * listed under their first letter (lower case ASCII) so that a text is
 * scanned once (has_unsub_word). Case folding is ASCII only, so the upper-case
 * E acute has words of its own. */
static const char *const unsub_u[] = { "unsub", NULL };
static const char *const unsub_o[] = { "opt-out", "opt out", "optout", NULL };
static const char *const unsub_a[] = { "abmelden", "afmelden", NULL };
static const char *const unsub_d[] = { "desinscri", "d\xc3\xa9sinscri", "desabonn", "d\xc3\xa9sabonn",
                                       "d\xc3\x89sinscri", "d\xc3\x89sabonn", NULL };
static const struct { char first; const char *const *words; } unsub_words[] = {
	{ 'u', unsub_u }, { 'o', unsub_o }, { 'a', unsub_a }, { 'd', unsub_d } };

struct url_set *urls_new(size_t max)
{
	struct url_set *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return NULL;
	u->max = max;
	u->items = malloc((max ? max : 1) * sizeof(struct url_item));   /* written whole as count grows */
	if (u->items == NULL) {
		free(u);
		return NULL;
	}
	return u;
}

void urls_free(struct url_set *u)
{
	if (u == NULL)
		return;
	free(u->items);
	free(u);
}

/* ci_find - case-insensitive search of word (lowercase ASCII, other bytes
 * exact) in (p,n); index or -1. Scans for the first byte before comparing: it
 * runs over whole text parts for every unsubscribe word. Bytes are compared
 * as unsigned char on both sides: a UTF-8 byte of the word must equal the
 * same byte of the text. */
static long ci_find(const char *p, size_t n, const char *word)
{
	size_t wl = strlen(word);
	if (wl == 0 || wl > n)
		return wl == 0 ? 0 : -1;
	unsigned char f = (unsigned char)word[0];
	unsigned char fu = (unsigned char)toupper(f);
	for (size_t i = 0; i + wl <= n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c == f || c == fu) && (wl == 1 || tolower((unsigned char)p[i + 1]) == tolower((unsigned char)word[1])) &&
		    mem_caseeq(p + i + 1, wl - 1, word + 1, wl - 1))
			return (long)i;
	}
	return -1;
}

/* has_unsub_word - does (p,n) name unsubscribing? One pass over the text
 * (whole text parts, every anchor's text and href); the same matches as a
 * ci_find per word: ASCII case-insensitive, other bytes exact. */
static int has_unsub_word(const char *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i++) {
		char c = (char)(p[i] | 0x20);  /* ASCII lower case for letters; others cannot match */
		size_t k = 0;
		while (k < sizeof(unsub_words) / sizeof(unsub_words[0]) && unsub_words[k].first != c)
			k++;
		if (k == sizeof(unsub_words) / sizeof(unsub_words[0]))
			continue;
		char second = (char)tolower((unsigned char)p[i + 1]);
		for (const char *const *w = unsub_words[k].words; *w; w++) {
			if ((*w)[1] != second)
				continue;
			size_t wl = strlen(*w);
			if (wl <= n - i && mem_caseeq(p + i, wl, *w, wl))
				return 1;
		}
	}
	return 0;
}

/* is_ip_host - dotted quad (also octal/hex parts), or one 32-bit number. */
static int is_ip_host(const char *h)
{
	if (h[0] == '\0')
		return 0;
	int parts = 1;
	for (const char *s = h; *s; s++) {
		if (*s == '.')
			parts++;
		else if (!isxdigit((unsigned char)*s) && *s != 'x')
			return 0;
	}
	if (parts > 4)
		return 0;
	/* every part must be a number: decimal, or 0x hex */
	for (const char *s = h; *s;) {
		size_t l = strcspn(s, ".");
		if (l == 0)
			return 0;
		if (l > 2 && s[0] == '0' && s[1] == 'x') {
			for (size_t i = 2; i < l; i++)
				if (!isxdigit((unsigned char)s[i]))
					return 0;
		} else {
			for (size_t i = 0; i < l; i++)
				if (!isdigit((unsigned char)s[i]))
					return 0;
		}
		s += l + (s[l] == '.');
	}
	return 1;
}

static int hexv(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* urls_host - scheme://[userinfo@]host[:port], or www.host. */
int urls_host(const char *p, size_t n, char *host, size_t hsz, int *ip)
{
	*ip = 0;
	if (hsz == 0)
		return -1;
	host[0] = '\0';
	while (n && isspace((unsigned char)*p))
		p++, n--;
	size_t i = 0;
	while (i < n && (isalnum((unsigned char)p[i]) || p[i] == '+' || p[i] == '-' || p[i] == '.'))
		i++;
	size_t a;
	if (i + 3 <= n && i > 0 && memcmp(p + i, "://", 3) == 0)
		a = i + 3;
	else if (n >= 4 && mem_caseeq(p, 4, "www.", 4))
		a = 0;
	else
		return -1;
	size_t e = a;
	while (e < n && p[e] != '/' && p[e] != '?' && p[e] != '#' && p[e] != '\\' &&
	       !isspace((unsigned char)p[e]) && p[e] != '"' && p[e] != '\'' && p[e] != '<' && p[e] != '>')
		e++;
	for (size_t k = e; k > a; k--)          /* userinfo ends at the last '@' */
		if (p[k - 1] == '@') {
			a = k;
			break;
		}
	size_t hs = a, he;
	if (hs < e && p[hs] == '[') {
		he = hs + 1;
		while (he < e && p[he] != ']')
			he++;
		hs++;
		*ip = 1;
	} else {
		he = hs;
		while (he < e && p[he] != ':')
			he++;
	}
	size_t j = 0;
	for (size_t k = hs; k < he && j + 1 < hsz; k++) {
		int h1, h2;
		unsigned char c = (unsigned char)p[k];
		if (c == '%' && k + 2 < he && (h1 = hexv((unsigned char)p[k + 1])) >= 0 &&
		    (h2 = hexv((unsigned char)p[k + 2])) >= 0) {   /* %-encoded host bytes */
			c = (unsigned char)(h1 * 16 + h2);
			k += 2;
		}
		host[j++] = c >= 32 && c < 127 ? (char)tolower(c) : '?';
	}
	while (j && host[j - 1] == '.')
		j--;
	host[j] = '\0';
	if (j == 0)
		return -1;
	if (!*ip)
		*ip = is_ip_host(host);
	return 0;
}

/* Top-level domains common enough that "name.TLD" in link text is a domain and
 * not a file name ("report.pdf"); with a scheme or "www." any name counts. */
static const char *const common_tlds[] = {
	"com", "net", "org", "info", "biz", "io", "co", "us", "uk", "de", "fr", "nl", "it",
	"es", "ru", "cn", "jp", "br", "in", "eu", "me", "ly", "app", "online", "shop", "xyz",
	"top", "test", "example", NULL };

/* urls_text_host - the domain a piece of link text shows. */
int urls_text_host(const char *p, size_t n, char *host, size_t hsz)
{
	int ip;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	long at = ci_find(p, n, "http://");
	if (at < 0)
		at = ci_find(p, n, "https://");
	if (at >= 0)
		return urls_host(p + at, n - (size_t)at, host, hsz, &ip);
	for (long w = ci_find(p, n, "www."); w >= 0;) {
		if (w == 0 || !isalnum((unsigned char)p[w - 1]))
			return urls_host(p + w, n - (size_t)w, host, hsz, &ip);
		long nx = ci_find(p + w + 4, n - (size_t)w - 4, "www.");
		w = nx < 0 ? -1 : w + 4 + nx;
	}
	/* the whole text a bare domain (with an optional path)? */
	size_t e = 0;
	while (e < n && p[e] != '/' && !isspace((unsigned char)p[e]))
		e++;
	for (size_t k = e; k < n; k++)
		if (isspace((unsigned char)p[k]))
			return -1;
	const char *dot = NULL;
	for (size_t k = 0; k < e; k++) {
		if (p[k] == '.')
			dot = p + k;
		else if (!isalnum((unsigned char)p[k]) && p[k] != '-')
			return -1;
	}
	if (dot == NULL || dot == p)
		return -1;
	size_t tl = (size_t)(p + e - dot - 1);
	for (size_t i = 0; common_tlds[i]; i++)
		if (mem_caseeq(dot + 1, tl, common_tlds[i], strlen(common_tlds[i]))) {
			size_t j = 0;
			for (size_t k = 0; k < e && j + 1 < hsz; k++)
				host[j++] = (char)tolower((unsigned char)p[k]);
			host[j] = '\0';
			return 0;
		}
	return -1;
}

/* add - keep one URL unless it is a duplicate or past the cap. */
static void add(struct url_set *u, const char *p, size_t n, const char *text_host, int html)
{
	struct url_item it;
	memset(&it, 0, sizeof(it));
	if (urls_host(p, n, it.host, sizeof(it.host), &it.ip) < 0)
		return;
	str_printable(it.url, sizeof(it.url), p, n);
	if (text_host)
		str_copy(it.text_host, sizeof(it.text_host), text_host, strlen(text_host));
	it.html = html;
	for (size_t i = 0; i < u->count; i++)
		if (strcmp(u->items[i].url, it.url) == 0 && strcmp(u->items[i].text_host, it.text_host) == 0)
			return;
	if (u->count >= u->max) {
		u->more = 1;
		return;
	}
	u->items[u->count++] = it;
}

/* url_end - where a bare URL starting at p ends. */
static size_t url_end(const char *p, size_t n)
{
	size_t e = 0;
	while (e < n && (unsigned char)p[e] > 32 && p[e] != '<' && p[e] != '>' && p[e] != '"' &&
	       p[e] != '\'' && (unsigned char)p[e] != 127)
		e++;
	while (e && strchr(".,;:!?)]}", p[e - 1]))  /* sentence punctuation after the URL */
		e--;
	return e;
}

/* urls_scan_text - http://, https:// and www. at a word start. */
void urls_scan_text(struct url_set *u, const char *p, size_t n)
{
	size_t found = 0;
	for (size_t i = 0; i < n; i++) {
		char c = (char)(p[i] | 0x20);    /* ASCII lower case for letters; others cannot match */
		if (c != 'h' && c != 'w')
			continue;
		/* cheap look at the next byte first: "ht..." or "ww..." */
		if (i + 1 >= n || (char)(p[i + 1] | 0x20) != (c == 'h' ? 't' : 'w'))
			continue;
		if (i > 0 && (isalnum((unsigned char)p[i - 1]) || p[i - 1] == '.' || p[i - 1] == '-' ||
		              p[i - 1] == '/'))
			continue;
		size_t rest = n - i;
		if ((rest >= 7 && mem_caseeq(p + i, 7, "http://", 7)) ||
		    (rest >= 8 && mem_caseeq(p + i, 8, "https://", 8)) ||
		    (rest >= 5 && mem_caseeq(p + i, 4, "www.", 4) && isalnum((unsigned char)p[i + 4]))) {
			size_t e = url_end(p + i, rest);
			add(u, p + i, e, NULL, 0);
			found++;
			i += e ? e - 1 : 0;
		}
	}
	if ((found || ci_find(p, n, "mailto:") >= 0) && has_unsub_word(p, n))
		u->unsub_link = 1;
}

/* attr - value of attribute name in the tag text (p,n), entities &amp; decoded. */
static int attr(const char *p, size_t n, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	for (size_t i = 0; i + nl <= n; i++) {
		if (p[i] == '"' || p[i] == '\'') {       /* skip other attributes' values */
			const char *q = memchr(p + i + 1, p[i], n - i - 1);
			if (q == NULL)
				return -1;
			i = (size_t)(q - p);
			continue;
		}
		if (i == 0 || !isspace((unsigned char)p[i - 1]) || !mem_caseeq(p + i, nl, name, nl))
			continue;
		size_t j = i + nl;
		while (j < n && isspace((unsigned char)p[j]))
			j++;
		if (j >= n || p[j] != '=')
			continue;
		j++;
		while (j < n && isspace((unsigned char)p[j]))
			j++;
		size_t vs = j, ve;
		if (j < n && (p[j] == '"' || p[j] == '\'')) {
			const char *q = memchr(p + j + 1, p[j], n - j - 1);
			vs = j + 1;
			ve = q ? (size_t)(q - p) : n;
		} else {
			ve = j;
			while (ve < n && !isspace((unsigned char)p[ve]) && p[ve] != '>')
				ve++;
		}
		size_t k = 0;
		for (size_t x = vs; x < ve && k + 1 < outsz; x++) {
			if (p[x] == '&' && ve - x >= 5 && mem_caseeq(p + x, 5, "&amp;", 5)) {
				out[k++] = '&';
				x += 4;
			} else {
				out[k++] = p[x];
			}
		}
		out[k] = '\0';
		return 0;
	}
	return -1;
}

/* entity - decode the character reference at p (starting with '&'); returns
 * its length and the byte in *c (' ' for anything not ASCII), 0 if none. */
static size_t entity(const char *p, size_t n, char *c)
{
	static const struct { const char *name; char c; } named[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
		{ "&nbsp;", ' ' }, { "&apos;", '\'' } };
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		size_t l = strlen(named[i].name);
		if (n >= l && mem_caseeq(p, l, named[i].name, l)) {
			*c = named[i].c;
			return l;
		}
	}
	if (n >= 4 && p[1] == '#') {
		size_t k = 2;
		unsigned long v = 0;
		int hex = k < n && (p[k] == 'x' || p[k] == 'X');
		if (hex)
			k++;
		size_t ds = k;
		while (k < n && k < 12 && (hex ? isxdigit((unsigned char)p[k]) : isdigit((unsigned char)p[k]))) {
			v = v * (hex ? 16 : 10) + (unsigned long)hexv((unsigned char)p[k]);
			k++;
		}
		if (k > ds && k < n && p[k] == ';') {
			*c = v > 32 && v < 127 ? (char)v : ' ';
			return k + 1;
		}
	}
	return 0;
}

struct anchor {
	int open;
	char href[HREF_MAX];
	char text[URL_LINKTEXT_MAX];
	size_t tlen;
};

/* anchor_close - the anchor ends: record its URL and what its text shows. */
static void anchor_close(struct url_set *u, struct anchor *a)
{
	if (!a->open)
		return;
	a->open = 0;
	size_t hl = strlen(a->href);
	if (has_unsub_word(a->text, a->tlen) || has_unsub_word(a->href, hl))
		u->unsub_link = 1;
	char th[URL_HOST_MAX];
	int shown = urls_text_host(a->text, a->tlen, th, sizeof(th)) == 0;
	add(u, a->href, hl, shown ? th : NULL, 1);
}

/* anchor_text - visible text inside an anchor. */
static void anchor_text(struct anchor *a, char c)
{
	if (a->open && a->tlen + 1 < sizeof(a->text))
		a->text[a->tlen++] = c;
}

/* urls_scan_html - walk tags and text. */
void urls_scan_html(struct url_set *u, const char *p, size_t n)
{
	struct anchor *a = calloc(1, sizeof(*a));
	if (a == NULL)
		return;
	const char *skip_to = NULL;              /* "</script" or "</style" */
	size_t i = 0;
	while (i < n) {
		if (skip_to) {
			long at = ci_find(p + i, n - i, skip_to);
			if (at < 0)
				break;
			i += (size_t)at;
			skip_to = NULL;
			continue;
		}
		char c = p[i];
		if (c == '<') {
			if (n - i >= 4 && memcmp(p + i, "<!--", 4) == 0) {
				const char *end = NULL;
				for (size_t k = i + 4; k + 3 <= n; k++)
					if (memcmp(p + k, "-->", 3) == 0) {
						end = p + k;
						break;
					}
				i = end ? (size_t)(end - p) + 3 : n;
				continue;
			}
			size_t j = i + 1;
			int closing = j < n && p[j] == '/';
			if (closing)
				j++;
			char name[16];
			size_t nl = 0;
			while (j < n && isalnum((unsigned char)p[j])) {
				if (nl + 1 < sizeof(name))
					name[nl++] = (char)tolower((unsigned char)p[j]);
				j++;
			}
			name[nl] = '\0';
			if (nl == 0) {                   /* a lone '<' is text */
				u->html_text++;
				anchor_text(a, '<');
				i++;
				continue;
			}
			size_t e = j;                    /* the tag ends at '>' outside quotes */
			char q = 0;
			while (e < n && (q || p[e] != '>')) {
				if (q && p[e] == q)
					q = 0;
				else if (!q && (p[e] == '"' || p[e] == '\''))
					q = p[e];
				e++;
			}
			const char *tag = p + j;
			size_t taglen = e - j;
			if (!closing && strcmp(name, "a") == 0) {
				anchor_close(u, a);
				if (attr(tag, taglen, "href", a->href, sizeof(a->href)) == 0) {
					a->open = 1;
					a->tlen = 0;
					u->anchors++;
				}
			} else if (closing && strcmp(name, "a") == 0) {
				anchor_close(u, a);
			} else if (!closing && strcmp(name, "img") == 0) {
				u->img_tags++;
			} else if (!closing && (strcmp(name, "script") == 0 || strcmp(name, "style") == 0)) {
				skip_to = strcmp(name, "script") == 0 ? "</script" : "</style";
			} else {
				anchor_text(a, ' ');         /* <br>, <td>, ... separate words */
			}
			i = e < n ? e + 1 : n;
			continue;
		}
		if (c == '&') {
			char ch;
			size_t l = entity(p + i, n - i, &ch);
			if (l) {
				if (ch != ' ')
					u->html_text++;
				anchor_text(a, ch);
				i += l;
				continue;
			}
		}
		/* a run of text up to the next markup byte: the common case, kept tight */
		size_t j = i;
		while (j < n && p[j] != '<' && p[j] != '&')
			j++;
		if (j == i)
			j = i + 1;               /* a '&' that is not an entity */
		for (size_t k = i; k < j; k++) {
			unsigned char ch = (unsigned char)p[k];
			int sp = ch == ' ' || (ch >= 9 && ch <= 13);
			u->html_text += !sp;
			if (a->open)
				anchor_text(a, sp ? ' ' : (char)ch);
		}
		i = j;
	}
	anchor_close(u, a);
	free(a);
}
