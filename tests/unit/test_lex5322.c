/*
 * test_lex5322 - the RFC 5322 lexer and the shared small helpers, table
 * driven, with the hostile inputs the callers meet: unclosed and deeply
 * nested comments, trailing backslashes, NUL bytes, 8-bit bytes.
 */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "lex5322.h"
#include "buf.h"
#include "mime.h"

/* inputs are (ptr, len): a length may cover NUL bytes */
#define S(lit) lit, sizeof(lit) - 1

struct cfws_case {
	const char *name;
	const char *in;
	size_t len, start;
	int rc;
	size_t pos;        /* (size_t)-1: the input length */
	int skipped;
};

static const struct cfws_case cfws_cases[] = {
	{ "empty", S(""), 0, LEX_OK, 0, 0 },
	{ "nothing to skip", S("abc"), 0, LEX_OK, 0, 0 },
	{ "white space and line breaks", S(" \t\r\n x"), 0, LEX_OK, 5, 1 },
	{ "comment", S("(c) x"), 0, LEX_OK, 4, 1 },
	{ "nested comment", S("(a (b (c)) d)x"), 0, LEX_OK, 13, 1 },
	{ "quoted paren in comment", S("(a \\) b)x"), 0, LEX_OK, 8, 1 },
	{ "comments and space", S(" (a) (b) x"), 0, LEX_OK, 9, 1 },
	{ "from an offset", S("x (a) y"), 1, LEX_OK, 6, 1 },
	{ "unclosed comment", S("(never closed <a@b>"), 0, LEX_UNCLOSED, (size_t)-1, 1 },
	{ "unclosed nested", S("(a (b) c"), 0, LEX_UNCLOSED, (size_t)-1, 1 },
	{ "trailing backslash quotes nothing", S("(a \\"), 0, LEX_UNCLOSED, (size_t)-1, 1 },
	{ "escaped close is not a close", S("(a\\)"), 0, LEX_UNCLOSED, (size_t)-1, 1 },
	{ "NUL inside a comment", S("(a\0b) x"), 0, LEX_OK, 6, 1 },
	{ "NUL stops CFWS", S(" \0"), 0, LEX_OK, 1, 1 },
	{ "close without open", S(") x"), 0, LEX_OK, 0, 0 },
	{ "8-bit in comment", S("(\xc3\xa9) x"), 0, LEX_OK, 5, 1 },
};

static void test_cfws(void)
{
	for (size_t i = 0; i < sizeof(cfws_cases) / sizeof(cfws_cases[0]); i++) {
		const struct cfws_case *c = &cfws_cases[i];
		size_t pos = c->start, want = c->pos == (size_t)-1 ? c->len : c->pos;
		int skipped = -1;
		int rc = lex_cfws(c->in, c->len, &pos, &skipped);
		T_INT(rc, c->rc, "cfws %s: result", c->name);
		T_INT(pos, want, "cfws %s: position", c->name);
		T_INT(skipped, c->skipped, "cfws %s: skipped", c->name);
	}
	size_t pos = 0;
	T_INT(lex_cfws("  x", 3, &pos, NULL), LEX_OK, "cfws: skipped may be NULL");
}

/* deep - n '(' then n ')' (balanced) or only the opens. */
static char *deep(size_t n, int balanced, size_t *len)
{
	char *p = malloc(2 * n + 1);
	if (p == NULL)
		abort();
	memset(p, '(', n);
	memset(p + n, ')', n);
	*len = balanced ? 2 * n : n;
	return p;
}

static void test_depth(void)
{
	size_t len, pos;
	char *p = deep(LEX_COMMENT_DEPTH_MAX, 1, &len);
	pos = 0;
	T_INT(lex_cfws(p, len, &pos, NULL), LEX_OK, "depth: at the cap is read");
	T_INT(pos, len, "depth: at the cap, all of it");
	free(p);
	p = deep(LEX_COMMENT_DEPTH_MAX + 1, 1, &len);
	pos = 0;
	T_INT(lex_cfws(p, len, &pos, NULL), LEX_TOO_DEEP, "depth: past the cap is an error");
	T_INT(pos, len, "depth: past the cap swallows the rest");
	free(p);
	p = deep(100000, 0, &len);
	pos = 0;
	T_INT(lex_cfws(p, len, &pos, NULL), LEX_UNCLOSED, "depth: 100000 opens, unclosed");
	free(p);
}

/* lex_comment with a caller's own depth cap (received.c reads TCP-info
 * comments with a cap of 8). */
struct comment_case {
	const char *name;
	const char *in;
	size_t len, start, cap;
	int rc;
	size_t pos;        /* (size_t)-1: the input length */
};

static const struct comment_case comment_cases[] = {
	{ "nested, quoted paren", S("(a (b) \\) c) x"), 0, 8, LEX_OK, 12 },
	{ "from an offset", S("x (y) z"), 2, 8, LEX_OK, 5 },
	{ "8 levels with cap 8", S("((((((((x))))))))!"), 0, 8, LEX_OK, 17 },
	{ "9 levels with cap 8", S("(((((((((x)))))))))!"), 0, 8, LEX_TOO_DEEP, (size_t)-1 },
	{ "unclosed", S("(a (b) c"), 0, 8, LEX_UNCLOSED, (size_t)-1 },
	{ "trailing backslash", S("(a\\"), 0, 8, LEX_UNCLOSED, (size_t)-1 },
	{ "cap 0 refuses any comment", S("a(b)"), 1, 0, LEX_TOO_DEEP, (size_t)-1 },
	{ "not on a '('", S("a(b)"), 0, 8, LEX_BAD, 0 },
	{ "empty input", S(""), 0, 8, LEX_BAD, 0 },
};

static void test_comment(void)
{
	for (size_t i = 0; i < sizeof(comment_cases) / sizeof(comment_cases[0]); i++) {
		const struct comment_case *c = &comment_cases[i];
		size_t pos = c->start, want = c->pos == (size_t)-1 ? c->len : c->pos;
		T_INT(lex_comment(c->in, c->len, &pos, c->cap), c->rc, "comment %s: result", c->name);
		T_INT(pos, want, "comment %s: position", c->name);
	}
}

struct tok_case {
	const char *name;
	const char *in;
	size_t len;
	int utf8;
	size_t atom, dot_atom;
};

static const struct tok_case tok_cases[] = {
	{ "plain", S("abc def"), 0, 3, 3 },
	{ "all specials of atext", S("!#$%&'*+-/=?^_`{|}~"), 0, 19, 19 },
	{ "dot-atom", S("a.b.c@x"), 0, 1, 5 },
	{ "leading dot", S(".a"), 0, 0, 0 },
	{ "trailing dot", S("a."), 0, 1, 0 },
	{ "double dot", S("a..b"), 0, 1, 0 },
	{ "specials end an atom", S("a(b"), 0, 1, 1 },
	{ "NUL ends an atom", S("ab\0c"), 0, 2, 2 },
	{ "8-bit refused in ASCII mode", S("\xc3\xa9t\xc3\xa9"), 0, 0, 0 },
	{ "8-bit admitted in UTF-8 mode", S("\xc3\xa9t\xc3\xa9.x"), 1, 5, 7 },
	{ "DEL is no atext", S("a\x7f"), 1, 1, 1 },
	{ "empty", S(""), 0, 0, 0 },
};

static void test_tokens(void)
{
	for (size_t i = 0; i < sizeof(tok_cases) / sizeof(tok_cases[0]); i++) {
		const struct tok_case *c = &tok_cases[i];
		T_INT(lex_atom(c->in, c->len, 0, c->utf8), c->atom, "atom %s", c->name);
		T_INT(lex_dot_atom_text(c->in, c->len, 0, c->utf8), c->dot_atom, "dot-atom %s", c->name);
	}
	T_OK(lex_is_atext('a') && lex_is_atext('~') && !lex_is_atext('@') && !lex_is_atext(0) &&
	     !lex_is_atext(0xe9) && lex_is_atext8(0xe9) && !lex_is_atext8(' '), "atext classes");
}

struct qs_case {
	const char *name;
	const char *in;
	size_t len;
	unsigned flags;
	int rc;
	size_t pos;        /* (size_t)-1: the input length */
	const char *out;
};

static const struct qs_case qs_cases[] = {
	{ "plain", S("\"a b\" x"), 0, LEX_OK, 5, "a b" },
	{ "quoted-pairs", S("\"a\\\"b\\\\c\""), 0, LEX_OK, 9, "a\"b\\c" },
	{ "empty", S("\"\""), 0, LEX_OK, 2, "" },
	{ "unclosed keeps the text", S("\"abc"), 0, LEX_UNCLOSED, (size_t)-1, "abc" },
	{ "trailing backslash", S("\"abc\\"), 0, LEX_UNCLOSED, (size_t)-1, "abc" },
	{ "escaped quote is not a close", S("\"a\\\""), 0, LEX_UNCLOSED, (size_t)-1, "a\"" },
	{ "folding kept verbatim", S("\"a\r\n b\""), 0, LEX_OK, 7, "a\r\n b" },
	{ "folding unfolded", S("\"a\r\n b\""), LEX_Q_UNFOLD, LEX_OK, 7, "a b" },
	{ "quoted CR kept when unfolding", S("\"a\\\rb\""), LEX_Q_UNFOLD, LEX_OK, 6, "a\rb" },
	{ "strict refuses a tab", S("\"a\tb\""), LEX_Q_STRICT, LEX_BAD, (size_t)-1, NULL },
	{ "strict refuses a quoted control", S("\"a\\\x01\""), LEX_Q_STRICT, LEX_BAD, (size_t)-1, NULL },
	{ "strict allows 8-bit", S("\"\xc3\xa9\""), LEX_Q_STRICT, LEX_OK, 4, "\xc3\xa9" },
	{ "NUL inside", S("\"a\0b\""), 0, LEX_OK, 5, NULL },
};

static void test_qstring(void)
{
	for (size_t i = 0; i < sizeof(qs_cases) / sizeof(qs_cases[0]); i++) {
		const struct qs_case *c = &qs_cases[i];
		char out[64];
		size_t pos = 0, olen = 99, want = c->pos == (size_t)-1 ? c->len : c->pos;
		int rc = lex_qstring(c->in, c->len, &pos, out, sizeof(out), &olen, c->flags);
		T_INT(rc, c->rc, "qstring %s: result", c->name);
		T_INT(pos, want, "qstring %s: position", c->name);
		if (c->out) {
			T_INT(olen, strlen(c->out), "qstring %s: length", c->name);
			T_OK(memcmp(out, c->out, olen) == 0 && out[olen] == '\0', "qstring %s: text", c->name);
		}
		pos = 0;
		T_INT(lex_qstring(c->in, c->len, &pos, NULL, 0, NULL, c->flags), c->rc,
		      "qstring %s: same result without output", c->name);
	}
	char small[4];
	size_t pos = 0, olen;
	T_INT(lex_qstring(S("\"abcdef\""), &pos, small, sizeof(small), &olen, 0), LEX_TOO_LONG,
	      "qstring: output cap");
	T_OK(olen == 3 && strcmp(small, "abc") == 0, "qstring: output cut and terminated");
	pos = 0;
	T_INT(lex_qstring(S("\"a\""), &pos, small, 0, &olen, 0), LEX_TOO_LONG, "qstring: zero-size output");
}

struct dl_case {
	const char *name;
	const char *in;
	size_t len;
	int strict, rc;
	size_t pos;
};

static const struct dl_case dl_cases[] = {
	{ "address literal", S("[192.0.2.1]>"), 0, LEX_OK, 11 },
	{ "strict address literal", S("[192.0.2.1]>"), 1, LEX_OK, 11 },
	{ "quoted-pair lenient", S("[a\\]b]"), 0, LEX_OK, 6 },
	{ "quoted-pair strict", S("[a\\]b]"), 1, LEX_BAD, (size_t)-1 },
	{ "space strict", S("[a b]"), 1, LEX_BAD, (size_t)-1 },
	{ "space lenient", S("[a b]"), 0, LEX_OK, 5 },
	{ "nested open strict", S("[a[b]"), 1, LEX_BAD, (size_t)-1 },
	{ "unclosed", S("[192.0.2.1"), 0, LEX_UNCLOSED, (size_t)-1 },
	{ "trailing backslash", S("[a\\"), 0, LEX_UNCLOSED, (size_t)-1 },
};

static void test_dliteral(void)
{
	for (size_t i = 0; i < sizeof(dl_cases) / sizeof(dl_cases[0]); i++) {
		const struct dl_case *c = &dl_cases[i];
		size_t pos = 0, want = c->pos == (size_t)-1 ? c->len : c->pos;
		T_INT(lex_dliteral(c->in, c->len, &pos, c->strict), c->rc, "dliteral %s: result", c->name);
		T_INT(pos, want, "dliteral %s: position", c->name);
	}
}

static void test_field_name(void)
{
	static const struct { const char *name, *in; size_t len; int ok; } c[] = {
		{ "plain", S("Subject"), 1 },
		{ "all printable", S("X-!#$%&'*+-/=?^_`{|}~\"(),.;<>@[\\]"), 1 },
		{ "empty", S(""), 0 },
		{ "colon", S("Sub:ject"), 0 },
		{ "space", S("Sub ject"), 0 },
		{ "NUL", S("Sub\0ject"), 0 },
		{ "8-bit", S("Sub\xe9"), 0 },
		{ "DEL", S("Sub\x7f"), 0 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		T_INT(lex_field_name(c[i].in, c[i].len), c[i].ok, "field name %s", c[i].name);
}

static void test_helpers(void)
{
	static const struct { const char *d, *base; int want; } c[] = {
		{ "example.org", "example.org", 1 },
		{ "Mail.Example.ORG", "example.org", 1 },
		{ "a.b.example.org", "example.org", 1 },
		{ "badexample.org", "example.org", 0 },
		{ "example.org", "mail.example.org", 0 },
		{ "org", "example.org", 0 },
		{ "example.org", "", 0 },
		{ "", "", 0 },
		{ ".example.org", "example.org", 1 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		T_INT(dom_at_or_below(c[i].d, strlen(c[i].d), c[i].base, strlen(c[i].base)), c[i].want,
		      "at or below: \"%s\" under \"%s\"", c[i].d, c[i].base);

	/* FNV-1a reference values (the offset basis alone, "a", "foobar") */
	T_INT(fnv1a32(FNV32_INIT, "", 0), 0x811c9dc5u, "fnv32: empty");
	T_INT(fnv1a32(FNV32_INIT, "a", 1), 0xe40c292cu, "fnv32: a");
	T_INT(fnv1a32(FNV32_INIT, "foobar", 6), 0xbf9cf968u, "fnv32: foobar");
	T_OK(fnv1a64(FNV64_INIT, "a", 1) == 0xaf63dc4c8601ec8cULL, "fnv64: a");
	T_OK(fnv1a64(FNV64_INIT, "foobar", 6) == 0x85944171f73967e8ULL, "fnv64: foobar");
	T_INT(fnv1a32(fnv1a32(FNV32_INIT, "foo", 3), "bar", 3), 0xbf9cf968u, "fnv32: continues");

	T_OK(hex_value('0') == 0 && hex_value('9') == 9 && hex_value('a') == 10 && hex_value('F') == 15 &&
	     hex_value('g') < 0 && hex_value(0) < 0 && hex_value(0xe9) < 0 && hex_value(-1) < 0, "hex digits");

	const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	int all = 1;
	for (int i = 0; i < 64; i++)
		all &= mime_b64_value((unsigned char)alpha[i]) == i;
	T_OK(all, "base64: the alphabet");
	T_OK(mime_b64_value('=') < 0 && mime_b64_value('-') < 0 && mime_b64_value(0) < 0 &&
	     mime_b64_value(0xff) < 0, "base64: others are not digits");
}

int main(void)
{
	test_cfws();
	test_depth();
	test_comment();
	test_tokens();
	test_qstring();
	test_dliteral();
	test_field_name();
	test_helpers();
	return t_done();
}
