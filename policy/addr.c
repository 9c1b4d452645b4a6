/*
 * addr - RFC 5322 address lists and RFC 5321 paths; see addr.h.
 *
 * The list parser is a small lexer (CFWS skipped, nested comments counted,
 * quoted strings and domain literals kept as single tokens) feeding a
 * parser with one token of lookahead. It never recurses, and the only text
 * read twice is a phrase (once to classify it, once to render it as display
 * name or local part), so its cost is linear in the input whatever it is. On anything unexpected it records a
 * syntax error and resynchronises at the next top-level comma (or group
 * end), so one broken address does not hide the others: a message whose From
 * parses differently in different programs is exactly the ambiguity callers
 * need to see.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>
#include "addr.h"
#include "buf.h"
#include "lex5322.h"

/* ---------- lexer ---------- */

enum tok {
	T_END, T_ATOM, T_QSTR, T_DLIT, T_DOT, T_LT, T_GT, T_AT,
	T_COMMA, T_SEMI, T_COLON, T_OTHER
};

struct token {
	enum tok t;
	size_t s, e;   /* [s, e) in the input, quotes/brackets included */
	int ws;        /* CFWS came before this token */
	int bad;       /* it, or a comment before it, is unterminated */
};

struct lex {
	const char *p;
	size_t n, pos;
	int err;       /* unterminated comment, quoted string or literal */
};

/* skip_cfws - skip CFWS (lex_cfws); nonzero if any; an unclosed or too
 * deeply nested comment swallows the rest and marks the token bad. */
static int skip_cfws(struct lex *l)
{
	int skipped = 0;
	if (lex_cfws(l->p, l->n, &l->pos, &skipped) != LEX_OK)
		l->err = 1;
	return skipped;
}

static void lex_one(struct lex *l, struct token *t);

/* lex_next - read the next token. */
static void lex_next(struct lex *l, struct token *t)
{
	int before = l->err;
	l->err = 0;
	lex_one(l, t);
	t->bad = l->err;
	l->err |= before;
}

/* lex_one - lex_next without the bookkeeping. */
static void lex_one(struct lex *l, struct token *t)
{
	t->ws = skip_cfws(l);
	t->s = l->pos;
	if (l->pos >= l->n) {
		t->t = T_END;
		t->e = l->pos;
		return;
	}
	unsigned char c = (unsigned char)l->p[l->pos++];
	if (lex_is_atext8(c)) {
		l->pos += lex_atom(l->p, l->n, l->pos, 1);
		t->t = T_ATOM;
	} else if (c == '"') {
		l->pos--;
		if (lex_qstring(l->p, l->n, &l->pos, NULL, 0, NULL, 0) != LEX_OK)
			l->err = 1;
		t->t = T_QSTR;
	} else if (c == '[') {
		l->pos--;
		if (lex_dliteral(l->p, l->n, &l->pos, 0) != LEX_OK)
			l->err = 1;
		t->t = T_DLIT;
	} else {
		switch (c) {
		case '.': t->t = T_DOT; break;
		case '<': t->t = T_LT; break;
		case '>': t->t = T_GT; break;
		case '@': t->t = T_AT; break;
		case ',': t->t = T_COMMA; break;
		case ';': t->t = T_SEMI; break;
		case ':': t->t = T_COLON; break;
		default: t->t = T_OTHER; break;
		}
	}
	t->e = l->pos;
}

/* ---------- bounded output strings ---------- */

struct sbuf {
	char *d;
	size_t sz, len;
	int over;      /* something did not fit */
};

/* sb_init - start an empty string in d[sz] (sz > 0). */
static void sb_init(struct sbuf *b, char *d, size_t sz)
{
	b->d = d;
	b->sz = sz;
	b->len = 0;
	b->over = 0;
	d[0] = '\0';
}

/* sb_put - append one byte or note the overflow. */
static void sb_put(struct sbuf *b, char c)
{
	if (b->len + 1 >= b->sz) {
		b->over = 1;
		return;
	}
	b->d[b->len++] = c;
	b->d[b->len] = '\0';
}

/* ctl_safe - control bytes become '?' so the strings stay printable C strings. */
static char ctl_safe(char c)
{
	unsigned char u = (unsigned char)c;
	return (u < 0x20 || u == 0x7f) ? '?' : c;
}

/* ---------- parser ---------- */

struct parser {
	struct lex lx;
	struct token cur;
	struct addr_list *out;
	size_t elements;   /* addresses and groups seen, stored or not */
	int in_group;
};

/* adv - move to the next token. */
static void adv(struct parser *ps) { lex_next(&ps->lx, &ps->cur); }

/* serr - note a syntax error in the list. */
static void serr(struct parser *ps) { ps->out->syntax_error = 1; }

/* emit - store a finished address, or count it past the cap. */
static void emit(struct parser *ps, struct addr *a)
{
	ps->elements++;
	if (a->bad)
		serr(ps);
	if (ps->out->count >= ADDR_MAX) {
		ps->out->more = 1;
		return;
	}
	ps->out->a[ps->out->count++] = *a;
}

/* addr_clear - an empty address. */
static void addr_clear(struct addr *a)
{
	a->local[0] = a->domain[0] = a->display[0] = '\0';
	a->bad = 0;
}

struct phrase {
	size_t s, e;     /* span of the phrase tokens in the input */
	size_t words;    /* atoms and quoted strings */
	int garbage;     /* tokens that belong in no phrase were skipped */
	int adjacent;    /* two words without a dot between: not a local part */
};

/* is_word - atom, quoted string or dot: what phrases and local parts are made of. */
static int is_word(enum tok t) { return t == T_ATOM || t == T_QSTR || t == T_DOT; }

/* collect_phrase - consume words (and stray junk, noted) up to a structural
 * token; inside angle brackets '>' ends the phrase instead of being junk. */
static void collect_phrase(struct parser *ps, struct phrase *ph, int in_angle)
{
	memset(ph, 0, sizeof(*ph));
	ph->s = ph->e = ps->cur.s;
	enum tok prev = T_END;
	for (;;) {
		enum tok t = ps->cur.t;
		if (is_word(t)) {
			if (t != T_DOT) {
				ph->words++;
				if (prev == T_ATOM || prev == T_QSTR)
					ph->adjacent = 1;
			}
		} else if ((t == T_GT && !in_angle) || t == T_DLIT || t == T_OTHER) {
			ph->garbage = 1;
			serr(ps);
		} else {
			break;
		}
		if (ps->cur.bad)
			ph->garbage = 1;  /* unterminated quote or comment */
		prev = t;
		ph->e = ps->cur.e;
		adv(ps);
	}
}

/* render_display - phrase as display text: quotes decoded, CFWS one space. */
static void render_display(const struct parser *ps, const struct phrase *ph, char *dst, size_t dsz)
{
	struct sbuf b;
	sb_init(&b, dst, dsz);
	struct lex l = { ps->lx.p, ph->e, ph->s, 0 };
	struct token t;
	for (lex_next(&l, &t); t.t != T_END; lex_next(&l, &t)) {
		if (!is_word(t.t))
			continue;
		if (t.ws && b.len > 0)
			sb_put(&b, ' ');
		size_t s = t.s, e = t.e;
		if (t.t == T_QSTR) {
			s++;
			if (e > s && ps->lx.p[e - 1] == '"')
				e--;
		}
		for (size_t i = s; i < e; i++) {
			unsigned char c = (unsigned char)ps->lx.p[i];
			if (t.t == T_QSTR) {
				if (c == '\r' || c == '\n')
					continue;      /* folding inside the quotes */
				if (c == '\\' && i + 1 < e)
					c = (unsigned char)ps->lx.p[++i];
				if (c == '\t')
					c = ' ';
			}
			sb_put(&b, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
		}
	}
	if (b.over && dsz > 4) /* say it was cut rather than cut silently */
		memcpy(dst + dsz - 4, "...", 4);
}

/* render_local - phrase as a local part: words and dots as written, no CFWS. */
static int render_local(const struct parser *ps, const struct phrase *ph, char *dst, size_t dsz)
{
	struct sbuf b;
	sb_init(&b, dst, dsz);
	struct lex l = { ps->lx.p, ph->e, ph->s, 0 };
	struct token t;
	for (lex_next(&l, &t); t.t != T_END; lex_next(&l, &t)) {
		if (!is_word(t.t))
			continue;
		for (size_t i = t.s; i < t.e; i++) {
			char c = ps->lx.p[i];
			if (t.t == T_QSTR && (c == '\r' || c == '\n'))
				continue;
			sb_put(&b, ctl_safe(c));
		}
	}
	return b.over ? -1 : 0;
}

/* local_from_phrase - fill a->local; bad when the phrase is no local part. */
static void local_from_phrase(struct parser *ps, const struct phrase *ph, struct addr *a)
{
	if (ph->words == 0 || ph->garbage || ph->adjacent)
		a->bad = 1;
	if (render_local(ps, ph, a->local, sizeof(a->local)) < 0)
		a->bad = 1;
}

/* parse_domain - after "@": dot-atom, obs-domain or domain literal. */
static void parse_domain(struct parser *ps, struct addr *a)
{
	struct sbuf b;
	sb_init(&b, a->domain, sizeof(a->domain));
	if (ps->cur.t == T_DLIT) {
		for (size_t i = ps->cur.s; i < ps->cur.e; i++) {
			char c = ps->lx.p[i];
			if (c == '\r' || c == '\n')
				continue;
			sb_put(&b, (char)tolower((unsigned char)ctl_safe(c)));
		}
		if (b.len < 2 || a->domain[b.len - 1] != ']')
			a->bad = 1;   /* unterminated literal */
		adv(ps);
	} else {
		enum tok prev = T_END;
		while (ps->cur.t == T_ATOM || ps->cur.t == T_DOT) {
			if (ps->cur.t == T_ATOM && prev == T_ATOM)
				break;        /* "exa mple.com": the caller sees junk */
			if (ps->cur.t == T_DOT && prev != T_ATOM)
				a->bad = 1;   /* leading or doubled dot */
			for (size_t i = ps->cur.s; i < ps->cur.e; i++)
				sb_put(&b, (char)tolower((unsigned char)ps->lx.p[i]));
			prev = ps->cur.t;
			adv(ps);
		}
		if (prev == T_DOT && b.len > 0)
			a->domain[--b.len] = '\0';  /* one trailing dot: absolute form */
		if (b.len == 0)
			a->bad = 1;
	}
	if (b.over)
		a->bad = 1;
}

/* parse_angle - "<" [obs-route] [addr-spec] ">" into a (cur is "<"). */
static void parse_angle(struct parser *ps, struct addr *a)
{
	adv(ps);
	if (ps->cur.t == T_AT) {
		/* obs-route: "@r1,@r2:" -- routing is dropped, only checked */
		struct addr scratch;
		addr_clear(&scratch);
		while (ps->cur.t == T_AT || ps->cur.t == T_COMMA) {
			if (ps->cur.t == T_AT) {
				adv(ps);
				parse_domain(ps, &scratch);
			} else {
				adv(ps);
			}
		}
		if (ps->cur.t == T_COLON && !scratch.bad)
			adv(ps);
		else
			a->bad = 1;
	}
	if (ps->cur.t == T_GT) {   /* "<>": no address at all */
		a->bad = 1;
		adv(ps);
		return;
	}
	struct phrase ph;
	collect_phrase(ps, &ph, 1);
	local_from_phrase(ps, &ph, a);
	if (ps->cur.t == T_AT) {
		adv(ps);
		parse_domain(ps, a);
	}
	if (ps->cur.t == T_GT) {
		adv(ps);
		return;
	}
	a->bad = 1;
	/* unclosed: resume after a '>' if one comes before the next separator */
	while (ps->cur.t != T_END && ps->cur.t != T_COMMA && ps->cur.t != T_SEMI) {
		enum tok t = ps->cur.t;
		adv(ps);
		if (t == T_GT)
			break;
	}
}

/* skip_to_sep - error recovery: skip to the next ',' or ';' (not consumed);
 * an angle address met on the way is still reported. */
static void skip_to_sep(struct parser *ps)
{
	while (ps->cur.t != T_END && ps->cur.t != T_COMMA && ps->cur.t != T_SEMI) {
		serr(ps);
		if (ps->cur.t == T_LT) {
			/* "a@x <b@y>": show both, the reader may see either */
			struct addr a;
			addr_clear(&a);
			a.bad = 1;
			parse_angle(ps, &a);
			emit(ps, &a);
		} else {
			adv(ps);
		}
	}
}

/* parse_address - one mailbox, or the start of a group. */
static void parse_address(struct parser *ps)
{
	struct addr a;
	addr_clear(&a);
	struct phrase ph;
	collect_phrase(ps, &ph, 0);
	switch (ps->cur.t) {
	case T_LT:
		if (ph.words)
			render_display(ps, &ph, a.display, sizeof(a.display));
		parse_angle(ps, &a);
		emit(ps, &a);
		skip_to_sep(ps);
		return;
	case T_AT:
		local_from_phrase(ps, &ph, &a);
		adv(ps);
		parse_domain(ps, &a);
		emit(ps, &a);
		skip_to_sep(ps);
		return;
	case T_COLON:
		adv(ps);
		if (ps->in_group || ph.words == 0 || ph.garbage) {
			serr(ps);    /* nested group or group without a name */
		}
		if (!ps->in_group)
			ps->elements++;
		ps->in_group = 1;
		return;
	default:
		/* separator or end: a bare word is an address without a domain */
		if (ph.words == 0)
			return;  /* only junk, already noted */
		local_from_phrase(ps, &ph, &a);
		emit(ps, &a);
		return;
	}
}

/* addr_parse_list - see addr.h. */
size_t addr_parse_list(const char *p, size_t n, struct addr_list *out)
{
	/* a[] (12 KB) is not cleared: entries are copied in whole as count grows */
	memset(out, 0, offsetof(struct addr_list, a));
	struct parser ps = { .lx = { p, p ? n : 0, 0, 0 }, .out = out };
	adv(&ps);
	for (;;) {
		switch (ps.cur.t) {
		case T_END:
			goto done;
		case T_COMMA:
			adv(&ps);   /* empty elements are obs-addr-list, fine */
			break;
		case T_SEMI:
			adv(&ps);
			if (ps.in_group) {
				ps.in_group = 0;
				skip_to_sep(&ps);
			} else {
				serr(&ps);
			}
			break;
		default:
			parse_address(&ps);
			break;
		}
	}
done:
	if (ps.in_group || ps.elements == 0 || ps.lx.err)
		out->syntax_error = 1;
	return out->count;
}

/* ---------- RFC 5321 paths ---------- */

/* is_wsp - SP or HTAB. */
static int is_wsp(char c) { return c == ' ' || c == '\t'; }

/* path_local_char - Dot-string byte (atext and '.'; 8-bit for SMTPUTF8). */
static int path_local_char(unsigned char c) { return c == '.' || lex_is_atext8(c); }

/* path_domain - check and copy a domain or address literal; -1 if malformed. */
static int path_domain(const char *p, size_t n, char *dst, size_t dsz)
{
	if (n == 0)
		return -1;
	if (p[0] == '[') {
		if (n < 3 || p[n - 1] != ']')
			return -1;
		for (size_t i = 1; i + 1 < n; i++) {
			unsigned char c = (unsigned char)p[i];
			if (c <= 0x20 || c >= 0x7f || c == '[' || c == ']' || c == '\\')
				return -1;
		}
	} else {
		/* letters, digits, '-', '_' and 8-bit bytes, a trailing dot
		 * (absolute form) dropped; dst's size caps the length */
		long l = dom_name_len(p, n, DOM_DOT | DOM_LDH | DOM_8BIT | DOM_NOCAP);
		if (l < 0)
			return -1;
		n = (size_t)l;
	}
	if (dst == NULL)
		return 0;
	if (str_copy(dst, dsz, p, n) < 0)
		return -1;
	str_lower(dst);
	return 0;
}

/* addr_parse_path - see addr.h. */
int addr_parse_path(const char *p, size_t n, char *local, size_t lsz, char *domain, size_t dsz)
{
	if (lsz == 0 || dsz == 0)
		return -1;
	local[0] = domain[0] = '\0';
	if (p == NULL)
		return -1;
	while (n > 0 && is_wsp(p[0]))
		p++, n--;
	while (n > 0 && is_wsp(p[n - 1]))
		n--;
	if (n == 0)
		return -1;
	int angle = p[0] == '<';
	if (angle) {
		if (n < 2 || p[n - 1] != '>')
			return -1;
		p++;
		n -= 2;
		if (n == 0)
			return 0;         /* "<>": the null reverse-path */
	}
	size_t i = 0;
	if (p[0] == '@') {
		/* A-d-l: "@r1,@r2:" -- ignored (RFC 5321 4.1.1.3, C.) */
		while (i < n && p[i] != ':') {
			size_t s = ++i;   /* past '@' */
			while (i < n && p[i] != ',' && p[i] != ':')
				i++;
			if (path_domain(p + s, i - s, NULL, 0) < 0)
				return -1;
			if (i < n && p[i] == ',') {
				if (++i >= n || p[i] != '@')
					return -1;
			}
		}
		if (i >= n)
			return -1;
		i++;                  /* past ':' */
	}
	size_t ls = i;
	if (i < n && p[i] == '"') {
		/* RFC 5321 Quoted-string: no control bytes, also not quoted */
		if (lex_qstring(p, n, &i, NULL, 0, NULL, LEX_Q_STRICT) != LEX_OK)
			return -1;
	} else {
		while (i < n && path_local_char((unsigned char)p[i]))
			i++;
	}
	size_t le = i;
	if (le == ls)
		return -1;
	if (i < n) {
		if (p[i] != '@')
			return -1;
		i++;
		if (path_domain(p + i, n - i, domain, dsz) < 0) {
			domain[0] = '\0';
			return -1;
		}
	}
	if (str_copy(local, lsz, p + ls, le - ls) < 0) {
		local[0] = domain[0] = '\0';
		return -1;
	}
	return 0;
}

/* addr_domain_valid - see addr.h. */
int addr_domain_valid(const char *p, size_t n)
{
	long l = p ? dom_name_len(p, n, DOM_DOT | DOM_LDH | DOM_EDGE) : -1;
	if (l < 0)
		return 0;
	for (long i = l - 1; i >= 0 && p[i] != '.'; i--)
		if (p[i] < '0' || p[i] > '9')
			return 1;
	return 0;   /* an all-digit top-level label: an address, not a name */
}
