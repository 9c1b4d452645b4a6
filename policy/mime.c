/*
 * mime - the streaming, bounded MIME walker; see mime.h for the contract.
 *
 * Body bytes are cut into lines (LF, a CR before it dropped); a line longer
 * than MIME_LINE_MAX is handed on in pieces, and only a piece that starts a
 * line may be a boundary. Each line goes to the state machine:
 *   HEADERS   part header fields, unfolded into one field buffer
 *   BODY      a leaf part's content, decoded into the text buffers
 *   SKIP      preamble, epilogue, parts past a cap: only boundaries matter
 * Boundaries of the open multiparts are on a stack; a boundary line matches
 * the innermost first, and matching an outer one closes the inner ones (a
 * missing close delimiter is reported as malformed, RFC 2046 5.1.1 requires it).
 * message/rfc822 parts (not base64) are walked as a nested message: their
 * header section becomes the next part's headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "mime.h"
#include "buf.h"

enum state { ST_HEADERS, ST_BODY, ST_SKIP };
enum target { TG_NONE = -1, TG_PLAIN = MIME_TEXT_PLAIN, TG_HTML = MIME_TEXT_HTML };

/* What the header fields of the part being read said. */
struct part_hdr {
	char type[MIME_TYPE_MAX];
	char charset[32];
	char filename[MIME_FILENAME_MAX];
	char boundary[MIME_BOUNDARY_MAX + 1];
	int attachment;
	enum mime_cte cte;
};

struct mime_walker {
	struct mime_limits lim;
	struct mime_facts f;
	int begun, stopped;
	/* line assembly */
	char line[MIME_LINE_MAX];
	size_t llen;
	int in_line;                 /* the current line began in an earlier piece */
	/* boundaries of the open multiparts, innermost last */
	char bound[MIME_DEPTH_HARD][MIME_BOUNDARY_MAX + 1];
	size_t blen[MIME_DEPTH_HARD];
	size_t nbound;
	/* the part being read */
	enum state st;
	unsigned depth;              /* depth of the part being read */
	struct part_hdr ph;
	buf *field;                  /* the header field being unfolded */
	struct mime_part *cur;       /* its facts, NULL when not described (cap) */
	enum target tg;
	enum mime_cte cte;
	struct mime_b64 b64;
	buf *text[2];
};

/* malformed - count a problem, keep the first reason. */
static void malformed(mime_walker *m, const char *why)
{
	if (m->f.malformed++ == 0)
		str_copy(m->f.malformed_why, sizeof(m->f.malformed_why), why, strlen(why));
}

/* mime_new - allocate the walker, its part table and text buffers. */
mime_walker *mime_new(const struct mime_limits *lim)
{
	mime_walker *m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->lim = *lim;
	if (m->lim.max_depth > MIME_DEPTH_HARD - 1)
		m->lim.max_depth = MIME_DEPTH_HARD - 1;
	if (m->lim.max_parts == 0)
		m->lim.max_parts = 1;
	m->f.parts = malloc(m->lim.max_parts * sizeof(struct mime_part));   /* cleared one by one in begin_body */
	m->field = buf_new(MIME_FIELD_MAX);
	m->text[0] = buf_new(lim->text_max);
	m->text[1] = buf_new(lim->text_max);
	m->tg = TG_NONE;
	if (m->f.parts == NULL || m->field == NULL || m->text[0] == NULL || m->text[1] == NULL) {
		mime_free(m);
		return NULL;
	}
	return m;
}

void mime_free(mime_walker *m)
{
	if (m == NULL)
		return;
	free(m->f.parts);
	buf_free(m->field);
	buf_free(m->text[0]);
	buf_free(m->text[1]);
	free(m);
}

/* lower_copy - (p,n) trimmed and lowercased into out; bytes outside printable ASCII become '?'. */
static void lower_copy(char *out, size_t outsz, const char *p, size_t n)
{
	while (n && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	size_t j = 0;
	for (size_t i = 0; i < n && j + 1 < outsz; i++) {
		unsigned char c = (unsigned char)p[i];
		out[j++] = c >= 32 && c < 127 ? (char)tolower(c) : '?';
	}
	out[j] = '\0';
}

/* mime_param - find name=value among the ';'-separated parameters. */
int mime_param(const char *p, size_t n, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name), i = 0;
	if (outsz == 0)
		return -1;
	out[0] = '\0';
	/* skip the type/subtype (or disposition type) */
	while (i < n && p[i] != ';') {
		if (p[i] == '"') {       /* a quoted string cannot hold the separator */
			for (i++; i < n && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
		}
		i++;
	}
	while (i < n) {
		i++;                     /* past ';' */
		while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
			i++;
		size_t ks = i;
		while (i < n && p[i] != '=' && p[i] != ';')
			i++;
		size_t ke = i;
		while (ke > ks && (p[ke - 1] == ' ' || p[ke - 1] == '\t'))
			ke--;
		int ext = 0;             /* RFC 2231: name* or name*0 or name*0* */
		int match = 0;
		if (ke - ks >= nl && mem_caseeq(p + ks, nl, name, nl)) {
			const char *rest = p + ks + nl;
			size_t rl = ke - ks - nl;
			if (rl == 0)
				match = 1;
			else if (rl == 1 && rest[0] == '*')
				match = 1, ext = 1;
			else if (rl == 2 && rest[0] == '*' && rest[1] == '0')
				match = 1;
			else if (rl == 3 && rest[0] == '*' && rest[1] == '0' && rest[2] == '*')
				match = 1, ext = 1;
		}
		if (i >= n || p[i] != '=') {
			continue;
		}
		i++;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		size_t j = 0;
		if (i < n && p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++) {
				if (p[i] == '\\' && i + 1 < n)
					i++;
				if (match && j + 1 < outsz)
					out[j++] = p[i];
			}
			if (i < n)
				i++;
			while (i < n && p[i] != ';')
				i++;
		} else {
			size_t vs = i;
			while (i < n && p[i] != ';')
				i++;
			size_t ve = i;
			while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t' || p[ve - 1] == '\r' || p[ve - 1] == '\n'))
				ve--;
			for (size_t k = vs; match && k < ve && j + 1 < outsz; k++)
				out[j++] = p[k];
		}
		if (!match)
			continue;
		out[j] = '\0';
		if (ext) {               /* charset'language'percent-encoded */
			char *q1 = strchr(out, '\''), *q2 = q1 ? strchr(q1 + 1, '\'') : NULL;
			const char *src = q2 ? q2 + 1 : out;
			size_t k = 0;
			for (const char *s = src; *s; s++) {
				int h1, h2;
				if (*s == '%' && (h1 = hex_value((unsigned char)s[1])) >= 0 &&
				    (h2 = hex_value((unsigned char)s[2])) >= 0) {
					out[k++] = (char)(h1 * 16 + h2);
					s += 2;
				} else {
					out[k++] = *s;
				}
			}
			out[k] = '\0';
		}
		return 0;
	}
	return -1;
}

/* printable_name - a filename with bytes outside printable ASCII made '?'. */
static void printable_name(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 32 || (unsigned char)*s >= 127)
			*s = '?';
}

/* set_ctype - type, charset, boundary and name= from a Content-Type value. */
static void set_ctype(struct part_hdr *ph, const char *v, size_t n)
{
	size_t tl = 0;
	while (tl < n && v[tl] != ';')
		tl++;
	lower_copy(ph->type, sizeof(ph->type), v, tl);
	if (strchr(ph->type, '/') == NULL)   /* RFC 2045 5.2: unusable, default applies */
		str_copy(ph->type, sizeof(ph->type), "text/plain", 10);
	char tmp[256];
	if (mime_param(v, n, "charset", tmp, sizeof(tmp)) == 0)
		lower_copy(ph->charset, sizeof(ph->charset), tmp, strlen(tmp));
	if (mime_param(v, n, "boundary", tmp, sizeof(tmp)) == 0)
		str_copy(ph->boundary, sizeof(ph->boundary), tmp, strlen(tmp));
	if (ph->filename[0] == '\0' && mime_param(v, n, "name", tmp, sizeof(tmp)) == 0) {
		str_copy(ph->filename, sizeof(ph->filename), tmp, strlen(tmp));
		printable_name(ph->filename);
	}
}

/* set_disposition - attachment flag and filename= (which wins over name=). */
static void set_disposition(struct part_hdr *ph, const char *v, size_t n)
{
	while (n && (*v == ' ' || *v == '\t'))
		v++, n--;
	ph->attachment = n >= 10 && mem_caseeq(v, 10, "attachment", 10);
	char tmp[256];
	if (mime_param(v, n, "filename", tmp, sizeof(tmp)) == 0) {
		str_copy(ph->filename, sizeof(ph->filename), tmp, strlen(tmp));
		printable_name(ph->filename);
	}
}

/* parse_cte - the Content-Transfer-Encoding mechanism. */
static enum mime_cte parse_cte(const char *v, size_t n)
{
	char t[32];
	lower_copy(t, sizeof(t), v, n);
	if (strcmp(t, "base64") == 0)
		return MIME_CTE_BASE64;
	if (strcmp(t, "quoted-printable") == 0)
		return MIME_CTE_QP;
	if (strcmp(t, "8bit") == 0)
		return MIME_CTE_8BIT;
	if (strcmp(t, "binary") == 0)
		return MIME_CTE_BINARY;
	if (strcmp(t, "7bit") == 0 || t[0] == '\0')
		return MIME_CTE_7BIT;
	return MIME_CTE_OTHER;
}

/* header_field - one complete (unfolded) part header field. */
static void header_field(mime_walker *m, const char *p, size_t n)
{
	const char *colon = memchr(p, ':', n);
	if (colon == NULL) {
		malformed(m, "a part header line without a colon");
		return;
	}
	size_t nl = (size_t)(colon - p), vl = n - nl - 1;
	while (nl && (p[nl - 1] == ' ' || p[nl - 1] == '\t'))
		nl--;
	const char *v = colon + 1;
	if (mem_caseeq(p, nl, "Content-Type", 12))
		set_ctype(&m->ph, v, vl);
	else if (mem_caseeq(p, nl, "Content-Transfer-Encoding", 25))
		m->ph.cte = parse_cte(v, vl);
	else if (mem_caseeq(p, nl, "Content-Disposition", 19))
		set_disposition(&m->ph, v, vl);
}

/* flush_field - parse the buffered field, if any. */
static void flush_field(mime_walker *m)
{
	if (buf_len(m->field))
		header_field(m, buf_data(m->field), buf_len(m->field));
	if (buf_overflowed(m->field))
		malformed(m, "a part header field longer than the cap");
	buf_reset(m->field);
}

/* new_part - reset the part header defaults for a part at depth d. */
static void new_part(mime_walker *m, unsigned d)
{
	memset(&m->ph, 0, sizeof(m->ph));
	str_copy(m->ph.type, sizeof(m->ph.type), "text/plain", 10);
	m->depth = d;
	m->st = ST_HEADERS;
	m->tg = TG_NONE;
	m->cur = NULL;
	buf_reset(m->field);
}

/* emit - decoded bytes of the current leaf part. */
static void emit(mime_walker *m, const char *p, size_t n)
{
	if (m->cur)
		m->cur->decoded += n;
	if (m->tg == TG_NONE || n == 0)
		return;
	buf *b = m->text[m->tg];
	size_t room = m->lim.text_max > buf_len(b) ? m->lim.text_max - buf_len(b) : 0;
	if (n > room) {
		m->f.text_truncated = 1;
		n = room;
	}
	if (n)
		buf_append(b, p, n);
}

/* b64_flush - the end of a base64 part: leftover bits are not a byte. */
static void b64_flush(mime_walker *m)
{
	if (m->cte == MIME_CTE_BASE64 && m->b64.bits >= 8)
		malformed(m, "base64 ends in the middle of a group");
	m->b64.acc = 0;
	m->b64.bits = 0;
}

/* mime_b64_table - see mime_b64_value in mime.h. */
#define B64_ROW16(x) x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x
const signed char mime_b64_table[256] = {
	B64_ROW16(-1), B64_ROW16(-1),
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,         /* ' ' .. '/' */
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,         /* '0' .. '?' */
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,                   /* '@' .. 'O' */
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,         /* 'P' .. '_' */
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,         /* '`' .. 'o' */
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,         /* 'p' .. DEL */
	B64_ROW16(-1), B64_ROW16(-1), B64_ROW16(-1), B64_ROW16(-1),
	B64_ROW16(-1), B64_ROW16(-1), B64_ROW16(-1), B64_ROW16(-1),
};

/* put - one decoded byte into out unless it is full. */
static int put(char *out, size_t cap, size_t *k, char c)
{
	if (*k >= cap)
		return -1;
	out[(*k)++] = c;
	return 0;
}

/* mime_b64_decode - see mime.h. */
unsigned mime_b64_decode(struct mime_b64 *st, const char *p, size_t n, char *out, size_t cap,
                         size_t *olen)
{
	unsigned r = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		int v = mime_b64_value(c);
		if (v < 0) {
			if (c == '=') {          /* padding: the group ends here */
				st->acc = 0;
				st->bits = 0;
			} else if (c != ' ' && c != '\t' && c != '\r' && c != '\n') {
				r |= MIME_DEC_BAD;
			}
			continue;
		}
		st->acc = ((st->acc << 6) | (unsigned)v) & 0xffffff;
		st->bits += 6;
		if (st->bits >= 8) {
			st->bits -= 8;
			if (put(out, cap, &k, (char)((st->acc >> st->bits) & 0xff)) < 0) {
				r |= MIME_DEC_OVER;
				break;
			}
		}
	}
	*olen = k;
	return r;
}

/* qp_line - one line of quoted-printable (no line end in it) into out;
 * MIME_DEC_SOFT when it ends in a soft line break. */
static unsigned qp_line(const char *p, size_t n, char *out, size_t cap, size_t *k)
{
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;                         /* RFC 2045 6.7 (3): trailing white space is not data */
	for (size_t i = 0; i < n; i++) {
		int h1, h2;
		char c = p[i];
		if (c == '=' && i + 1 == n)
			return MIME_DEC_SOFT;    /* "=" at the end of the line: soft line break */
		if (c == '=' && i + 2 < n && (h1 = hex_value((unsigned char)p[i + 1])) >= 0 &&
		    (h2 = hex_value((unsigned char)p[i + 2])) >= 0) {
			c = (char)(h1 * 16 + h2);
			i += 2;
		}                            /* any other "=" stays (RFC 2045 6.7 note) */
		if (put(out, cap, k, c) < 0)
			return MIME_DEC_OVER;
	}
	return 0;
}

/* mime_qp_decode - see mime.h. */
unsigned mime_qp_decode(const char *p, size_t n, char *out, size_t cap, size_t *olen)
{
	unsigned r = 0;
	size_t k = 0, i = 0;
	while (i < n && !(r & MIME_DEC_OVER)) {
		const char *nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) : n, next = nl ? end + 1 : n;
		size_t body = nl && end > i && p[end - 1] == '\r' ? end - 1 : end;
		r = qp_line(p + i, body - i, out, cap, &k);
		if (nl && r == 0)
			for (size_t j = body; j < next && r == 0; j++)
				if (put(out, cap, &k, p[j]) < 0)
					r = MIME_DEC_OVER;
		if (nl && r == MIME_DEC_SOFT)
			r = 0;                   /* a soft break inside: the line end goes */
		i = next;
	}
	*olen = k;
	return r;
}

/* decode - one line (or piece) of a leaf part into emit(). */
static void decode(mime_walker *m, const char *p, size_t n, int eol)
{
	char out[MIME_LINE_MAX + 2];
	size_t j = 0;
	if (m->cte == MIME_CTE_BASE64) {
		if (mime_b64_decode(&m->b64, p, n, out, sizeof(out), &j) & MIME_DEC_BAD)
			malformed(m, "characters outside the base64 alphabet");
		eol = 0;                 /* line breaks in base64 are not data */
	} else if (m->cte == MIME_CTE_QP) {
		unsigned r = mime_qp_decode(p, n, out, sizeof(out) - 1, &j);
		if (eol && !(r & MIME_DEC_SOFT))
			out[j++] = '\n';
		eol = 0;
	} else {
		memcpy(out, p, n);
		j = n;
	}
	if (eol)
		out[j++] = '\n';
	emit(m, out, j);
}

/* begin_body - the part's header section ended: describe it, decide how to
 * read its body. */
static void begin_body(mime_walker *m)
{
	flush_field(m);
	struct part_hdr *ph = &m->ph;
	if (m->f.nparts >= m->lim.max_parts) {
		m->f.over_parts = 1;
		m->st = ST_SKIP;
		return;
	}
	struct mime_part *pt = &m->f.parts[m->f.nparts++];
	memset(pt, 0, sizeof(*pt));
	str_copy(pt->type, sizeof(pt->type), ph->type, strlen(ph->type));
	str_copy(pt->charset, sizeof(pt->charset), ph->charset, strlen(ph->charset));
	str_copy(pt->filename, sizeof(pt->filename), ph->filename, strlen(ph->filename));
	pt->attachment = ph->attachment;
	pt->cte = ph->cte;
	pt->depth = m->depth;
	if (strncmp(ph->type, "multipart/", 10) == 0) {
		if (ph->boundary[0] == '\0') {
			malformed(m, "a multipart part without a boundary");
			m->st = ST_SKIP;
		} else if (m->nbound >= m->lim.max_depth) {
			m->f.over_depth = 1;
			m->st = ST_SKIP;
		} else {
			size_t bl = strlen(ph->boundary);
			memcpy(m->bound[m->nbound], ph->boundary, bl + 1);
			m->blen[m->nbound++] = bl;
			m->st = ST_SKIP;     /* the preamble */
		}
		return;
	}
	if (strcmp(ph->type, "message/rfc822") == 0 && ph->cte != MIME_CTE_BASE64 &&
	    ph->cte != MIME_CTE_QP) {
		if (m->depth + 1 > m->lim.max_depth) {
			m->f.over_depth = 1;
			m->st = ST_SKIP;
		} else {
			new_part(m, m->depth + 1);   /* its header section is the next part's */
		}
		return;
	}
	m->cur = pt;
	m->cte = ph->cte;
	m->b64.acc = 0;
	m->b64.bits = 0;
	m->st = ST_BODY;
	m->tg = TG_NONE;
	if (ph->filename[0] || ph->attachment)
		m->f.attachments++;
	if (strncmp(ph->type, "image/", 6) == 0)
		m->f.image_parts++;
	if (!ph->attachment && strcmp(ph->type, "text/plain") == 0) {
		m->f.text_parts++;
		m->tg = TG_PLAIN;
	} else if (!ph->attachment && strcmp(ph->type, "text/html") == 0) {
		m->f.html_parts++;
		m->tg = TG_HTML;
	}
	if (m->tg != TG_NONE && buf_len(m->text[m->tg]))
		emit(m, "\n", 1);        /* keep parts apart */
}

/* end_part - a boundary or the end of the body closes the current part. */
static void end_part(mime_walker *m)
{
	if (m->st == ST_HEADERS) {
		flush_field(m);
		if (m->depth > 0)
			malformed(m, "a part whose header section never ends");
	}
	if (m->st == ST_BODY)
		b64_flush(m);
	m->st = ST_SKIP;
	m->tg = TG_NONE;
	m->cur = NULL;
}

/* boundary_match - index+1 of the open boundary this line is, 0 if none;
 * *close set for a close delimiter. */
static size_t boundary_match(const mime_walker *m, const char *p, size_t n, int *close)
{
	if (n < 3 || p[0] != '-' || p[1] != '-')
		return 0;
	for (size_t k = m->nbound; k-- > 0;) {
		size_t bl = m->blen[k];
		if (n < 2 + bl || memcmp(p + 2, m->bound[k], bl) != 0)
			continue;
		const char *r = p + 2 + bl;
		size_t rl = n - 2 - bl;
		*close = rl >= 2 && r[0] == '-' && r[1] == '-';
		if (*close)
			r += 2, rl -= 2;
		while (rl && (*r == ' ' || *r == '\t'))   /* transport padding */
			r++, rl--;
		if (rl == 0)
			return k + 1;
	}
	return 0;
}

/* line - one line (eol) or piece of a line (!eol); at_start: it begins a line. */
static void line(mime_walker *m, const char *p, size_t n, int at_start, int eol)
{
	int close = 0;
	size_t k = at_start && eol ? boundary_match(m, p, n, &close) : 0;
	if (k) {
		end_part(m);
		if (m->nbound > k)
			malformed(m, "a nested multipart without its close delimiter");
		m->nbound = k;
		if (close) {
			m->nbound = k - 1;
			m->st = ST_SKIP;     /* the epilogue */
		} else {
			new_part(m, (unsigned)k);
		}
		return;
	}
	switch (m->st) {
	case ST_HEADERS:
		if (at_start && n == 0 && eol) {
			begin_body(m);
		} else if (at_start && (p[0] == ' ' || p[0] == '\t')) {
			/* an overflow is reported by flush_field */
			if (buf_append(m->field, " ", 1) == 0)
				buf_append(m->field, p, n);
		} else if (at_start) {
			flush_field(m);
			buf_append(m->field, p, n);
		} else {
			buf_append(m->field, p, n);
		}
		break;
	case ST_BODY:
		decode(m, p, n, eol);
		break;
	case ST_SKIP:
		break;
	}
}

/* mime_begin - the top-level part's header facts. */
void mime_begin(mime_walker *m, const char *ctype, size_t ctlen, const char *cte, size_t ctelen)
{
	if (m->begun)
		return;
	m->begun = 1;
	new_part(m, 0);
	if (ctype)
		set_ctype(&m->ph, ctype, ctlen);
	if (cte)
		m->ph.cte = parse_cte(cte, ctelen);
	begin_body(m);
}

/* mime_feed - split into lines, respecting the byte cap. */
void mime_feed(mime_walker *m, const unsigned char *p, size_t n)
{
	if (!m->begun)
		mime_begin(m, NULL, 0, NULL, 0);
	if (m->stopped)
		return;
	if (m->f.scanned + n > m->lim.max_bytes) {
		n = m->f.scanned < m->lim.max_bytes ? (size_t)(m->lim.max_bytes - m->f.scanned) : 0;
		m->f.over_bytes = 1;
		m->stopped = 1;
	}
	m->f.scanned += n;
	const char *s = (const char *)p;
	while (n) {
		const char *nl = memchr(s, '\n', n);
		size_t take = nl ? (size_t)(nl - s) : n;
		size_t room = MIME_LINE_MAX - m->llen;
		if (take >= room) {      /* the line does not fit: hand on what we have */
			memcpy(m->line + m->llen, s, room);
			line(m, m->line, MIME_LINE_MAX, !m->in_line, 0);
			m->llen = 0;
			m->in_line = 1;
			m->f.long_lines = 1;
			s += room;
			n -= room;
			continue;
		}
		memcpy(m->line + m->llen, s, take);
		m->llen += take;
		if (!nl)
			break;
		size_t ll = m->llen;
		if (ll && m->line[ll - 1] == '\r')
			ll--;
		line(m, m->line, ll, !m->in_line, 1);
		m->llen = 0;
		m->in_line = 0;
		s += take + 1;
		n -= take + 1;
	}
}

/* mime_end - the last line, then any multipart left open. */
void mime_end(mime_walker *m)
{
	if (!m->begun)
		mime_begin(m, NULL, 0, NULL, 0);
	if (m->llen || m->in_line) {
		size_t ll = m->llen;
		if (ll && m->line[ll - 1] == '\r')
			ll--;
		line(m, m->line, ll, !m->in_line, 1);
		m->llen = 0;
		m->in_line = 0;
	}
	end_part(m);
	if (m->nbound && !m->stopped)
		malformed(m, "a multipart without its close delimiter");
	m->nbound = 0;
}

const struct mime_facts *mime_facts(const mime_walker *m) { return &m->f; }

const char *mime_text(const mime_walker *m, enum mime_text kind, size_t *len)
{
	*len = buf_len(m->text[kind]);
	return buf_data(m->text[kind]);
}
