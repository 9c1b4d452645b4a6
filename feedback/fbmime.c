/*
 * fbmime - MIME structure of a report message in memory (see fbmime.h).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "fbmime.h"
#include "mime.h"
#include "buf.h"

/* next_line - the line at *pos (without CR LF); advances *pos past its end.
 * 0 when there is no more input. */
static int next_line(const char *p, size_t len, size_t *pos, const char **ls, size_t *ll)
{
	if (*pos >= len)
		return 0;
	const char *s = p + *pos;
	const char *nl = memchr(s, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - s) : len - *pos;
	*pos += nl ? n + 1 : n;
	if (n > 0 && s[n - 1] == '\r')
		n--;
	*ls = s;
	*ll = n;
	return 1;
}

void fbmime_split(const char *p, size_t len, const char **hdr, size_t *hlen,
                  const char **body, size_t *blen)
{
	size_t pos = 0, prev = 0;
	const char *ls;
	size_t ll;
	*hdr = p;
	while (next_line(p, len, &pos, &ls, &ll)) {
		if (ll == 0) {
			*hlen = prev;
			*body = p + pos;
			*blen = len - pos;
			return;
		}
		prev = pos;
	}
	*hlen = len;
	*body = p + len;
	*blen = 0;
}

/* append_cut - append n bytes to out (cap includes the NUL), cutting. */
static void append_cut(char *out, size_t cap, size_t *k, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *k + 1 < cap; i++)
		out[(*k)++] = s[i] == '\0' ? ' ' : s[i];
	out[*k < cap ? *k : cap - 1] = '\0';
}

int fbmime_next_field(const char *hdr, size_t hlen, size_t *pos, char *name, size_t ncap,
                      char *val, size_t vcap)
{
	const char *ls;
	size_t ll;
	while (*pos < hlen) {
		if (!next_line(hdr, hlen, pos, &ls, &ll))
			return 0;
		const char *colon = memchr(ls, ':', ll);
		if (ll == 0 || ls[0] == ' ' || ls[0] == '\t' || colon == NULL)
			continue;                       /* a stray continuation or junk line */
		size_t nk = 0, vk = 0;
		size_t nl = (size_t)(colon - ls);
		while (nl > 0 && (ls[nl - 1] == ' ' || ls[nl - 1] == '\t'))
			nl--;
		name[0] = val[0] = '\0';
		append_cut(name, ncap, &nk, ls, nl);
		const char *v = colon + 1;
		size_t vl = ll - (size_t)(v - ls);
		while (vl > 0 && (*v == ' ' || *v == '\t'))
			v++, vl--;
		append_cut(val, vcap, &vk, v, vl);
		size_t save = *pos;
		while (next_line(hdr, hlen, pos, &ls, &ll) && ll > 0 && (ls[0] == ' ' || ls[0] == '\t')) {
			append_cut(val, vcap, &vk, ls, ll);
			save = *pos;
		}
		*pos = save;
		while (vk > 0 && (val[vk - 1] == ' ' || val[vk - 1] == '\t'))
			val[--vk] = '\0';
		return 1;
	}
	return 0;
}

int fbmime_field(const char *hdr, size_t hlen, const char *name, char *out, size_t cap)
{
	size_t pos = 0;
	char n[80];
	while (fbmime_next_field(hdr, hlen, &pos, n, sizeof(n), out, cap))
		if (strcasecmp(n, name) == 0)
			return (int)strlen(out);
	out[0] = '\0';
	return -1;
}

int fbmime_param(const char *value, const char *pname, char *out, size_t cap)
{
	size_t pl = strlen(pname);
	const char *s = strchr(value, ';');
	out[0] = '\0';
	while (s) {
		s++;
		while (*s == ' ' || *s == '\t')
			s++;
		if (strncasecmp(s, pname, pl) == 0) {
			const char *v = s + pl;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v == '=') {
				v++;
				while (*v == ' ' || *v == '\t')
					v++;
				size_t k = 0;
				if (*v == '"') {
					for (v++; *v && *v != '"'; v++) {
						if (*v == '\\' && v[1])
							v++;
						if (k + 1 < cap)
							out[k++] = *v;
					}
				} else {
					for (; *v && *v != ';' && *v != ' ' && *v != '\t'; v++)
						if (k + 1 < cap)
							out[k++] = *v;
				}
				out[k] = '\0';
				return (int)k;
			}
		}
		s = strchr(s, ';');
	}
	return -1;
}

/* content_type - lower-case type/subtype of a Content-Type value. */
static void content_type(const char *v, char *out, size_t cap)
{
	size_t k = 0;
	for (; *v && *v != ';' && *v != ' ' && *v != '\t' && *v != '(' && k + 1 < cap; v++)
		out[k++] = (char)tolower((unsigned char)*v);
	out[k] = '\0';
	if (k == 0 || strchr(out, '/') == NULL)
		str_copy(out, cap, "text/plain", 10);
}

struct walk { int (*leaf)(void *, const struct fbmime_part *); void *arg; int n, stop; };

static void walk_part(struct walk *w, const char *p, size_t len, int depth);

/* is_delim - the line is "--boundary" (close: "--boundary--"), trailing
 * white space allowed. 0 no, 1 delimiter, 2 close delimiter. */
static int is_delim(const char *ls, size_t ll, const char *b, size_t bl)
{
	if (ll < bl + 2 || ls[0] != '-' || ls[1] != '-' || memcmp(ls + 2, b, bl) != 0)
		return 0;
	size_t i = bl + 2;
	int close = ll >= i + 2 && ls[i] == '-' && ls[i + 1] == '-';
	for (i += close ? 2 : 0; i < ll; i++)
		if (ls[i] != ' ' && ls[i] != '\t')
			return 0;
	return close ? 2 : 1;
}

/* walk_multipart - every body part between the delimiters. */
static void walk_multipart(struct walk *w, const char *body, size_t blen, const char *b, int depth)
{
	size_t bl = strlen(b), pos = 0, start = 0, line_at = 0;
	int inpart = 0;
	const char *ls;
	size_t ll;
	while (!w->stop) {
		line_at = pos;
		if (!next_line(body, blen, &pos, &ls, &ll))
			break;
		int d = is_delim(ls, ll, b, bl);
		if (d == 0)
			continue;
		if (inpart) {
			/* the CRLF before the delimiter belongs to it */
			size_t end = line_at;
			if (end > start && body[end - 1] == '\n')
				end--;
			if (end > start && body[end - 1] == '\r')
				end--;
			walk_part(w, body + start, end - start, depth + 1);
		}
		if (d == 2)
			return;
		inpart = 1;
		start = pos;
	}
	if (inpart && !w->stop)        /* no close delimiter: the rest is the last part */
		walk_part(w, body + start, blen - start, depth + 1);
}

static void walk_part(struct walk *w, const char *p, size_t len, int depth)
{
	struct fbmime_part part;
	char ct[FBMIME_FIELD_MAX + 1], bnd[80];
	memset(&part, 0, sizeof(part));
	fbmime_split(p, len, &part.hdr, &part.hlen, &part.body, &part.blen);
	if (fbmime_field(part.hdr, part.hlen, "Content-Type", ct, sizeof(ct)) < 0)
		ct[0] = '\0';
	content_type(ct, part.ctype, sizeof(part.ctype));
	part.depth = depth;
	if (strncmp(part.ctype, "multipart/", 10) == 0 && depth < FBMIME_DEPTH_MAX &&
	    fbmime_param(ct, "boundary", bnd, sizeof(bnd)) > 0) {
		walk_multipart(w, part.body, part.blen, bnd, depth);
		return;
	}
	if (w->n >= FBMIME_PARTS_MAX) {
		w->stop = 1;
		return;
	}
	w->n++;
	if (w->leaf(w->arg, &part))
		w->stop = 1;
}

int fbmime_walk(const char *msg, size_t len, int (*leaf)(void *arg, const struct fbmime_part *p),
                void *arg)
{
	struct walk w = { leaf, arg, 0, 0 };
	walk_part(&w, msg, len, 0);
	return w.n;
}

char *fbmime_decode(const struct fbmime_part *p, size_t cap, size_t *outlen)
{
	char cte[64];
	if (fbmime_field(p->hdr, p->hlen, "Content-Transfer-Encoding", cte, sizeof(cte)) < 0)
		cte[0] = '\0';
	size_t room = p->blen < cap ? p->blen : cap;
	char *out = malloc(room + 1);
	if (out == NULL)
		return NULL;
	int over = 0;
	size_t k;
	struct mime_b64 st = { 0, 0 };
	if (strncasecmp(cte, "base64", 6) == 0)
		over = (mime_b64_decode(&st, p->body, p->blen, out, room, &k) & MIME_DEC_OVER) != 0;
	else if (strncasecmp(cte, "quoted-printable", 16) == 0)
		over = (mime_qp_decode(p->body, p->blen, out, room, &k) & MIME_DEC_OVER) != 0;
	else {
		k = room;
		over = p->blen > cap;
		memcpy(out, p->body, k);
	}
	if (over) {
		free(out);
		return NULL;
	}
	out[k] = '\0';
	*outlen = k;
	return out;
}
