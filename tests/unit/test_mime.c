/*
 * test_mime - the streaming MIME walker: structure, decoding, caps and
 * malformed input, table-driven. Every case is also fed one byte at a time
 * and must give the same facts (the walker is a push parser).
 */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "mime.h"
#include "buf.h"

struct mcase {
	const char *name;
	const char *ctype, *cte;     /* top-level header values, NULL = absent */
	const char *body;            /* LF line ends; converted to CRLF */
	size_t nparts;
	const char *plain, *html;    /* substring expected in the decoded text, or NULL */
	unsigned html_parts, text_parts, images, attachments;
	int malformed, over_parts, over_depth, over_bytes;
	const char *last_filename;   /* filename of the last part described, or NULL */
};

static const struct mcase cases[] = {
	{ "plain 7bit", NULL, NULL, "Hello world\nsecond line\n", 1, "Hello world\nsecond line\n", NULL,
	  0, 1, 0, 0, 0, 0, 0, 0, NULL },
	{ "top-level base64", "text/plain; charset=utf-8", "base64", "SGVsbG8gYmFzZTY0\nIHdvcmxk\n", 1,
	  "Hello base64 world", NULL, 0, 1, 0, 0, 0, 0, 0, 0, NULL },
	{ "top-level quoted-printable", "text/html", "quoted-printable",
	  "<p>caf=C3=A9 =3D soft=\nbreak</p>\nnext\n", 1, NULL, "<p>caf\xc3\xa9 = softbreak</p>\nnext\n",
	  1, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "alternative", "multipart/alternative; boundary=\"b1\"", NULL,
	  "preamble\n--b1\nContent-Type: text/plain\n\nplain text\n--b1\nContent-Type: text/html\n"
	  "Content-Transfer-Encoding: base64\n\nPGI+aHRtbDwvYj4=\n--b1--\nepilogue\n", 3,
	  "plain text", "<b>html</b>", 1, 1, 0, 0, 0, 0, 0, 0, NULL },
	{ "nested mixed with attachment", "multipart/mixed; boundary=outer", NULL,
	  "--outer\nContent-Type: multipart/alternative; boundary=inner\n\n--inner\n"
	  "Content-Type: text/plain\n\nhi\n--inner--\n--outer\nContent-Type: application/octet-stream;\n"
	  " name=\"invoice.pdf.exe\"\nContent-Disposition: attachment\nContent-Transfer-Encoding: base64\n\n"
	  "TVqQAAMAAAAEAAAA\n--outer\nContent-Type: image/png\nContent-Disposition: inline; filename*=utf-8''a%20b.png\n\n"
	  "xx\n--outer--\n", 5, "hi", NULL, 0, 1, 1, 2, 0, 0, 0, 0, "a b.png" },
	{ "message/rfc822 walked", "multipart/mixed; boundary=m", NULL,
	  "--m\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Type: text/html\n\n<i>inner</i>\n--m--\n",
	  3, NULL, "<i>inner</i>", 1, 0, 0, 0, 0, 0, 0, 0, NULL },
	{ "attachment text is not scanned", "multipart/mixed; boundary=a", NULL,
	  "--a\nContent-Type: text/plain\nContent-Disposition: attachment; filename=x.txt\n\nsecret\n--a--\n",
	  2, NULL, NULL, 0, 0, 0, 1, 0, 0, 0, 0, "x.txt" },
	{ "missing close delimiter", "multipart/mixed; boundary=z", NULL,
	  "--z\nContent-Type: text/plain\n\nbody\n", 2, "body", NULL, 0, 1, 0, 0, 1, 0, 0, 0, NULL },
	{ "multipart without boundary", "multipart/mixed", NULL, "--x\n\nbody\n", 1, NULL, NULL,
	  0, 0, 0, 0, 1, 0, 0, 0, NULL },
	{ "bad base64", "text/plain", "base64", "SGVs!!bG8=\n", 1, "Hello", NULL, 0, 1, 0, 0, 1, 0, 0, 0, NULL },
	{ "boundary prefix is not a boundary", "multipart/mixed; boundary=ab", NULL,
	  "--ab\n\n--abc is text\n--ab--\n", 2, "--abc is text", NULL, 0, 1, 0, 0, 0, 0, 0, 0, NULL },
	{ "transport padding after boundary", "multipart/mixed; boundary=p", NULL,
	  "--p  \n\nx\n--p-- \n", 2, "x", NULL, 0, 1, 0, 0, 0, 0, 0, 0, NULL },
	{ "bad content-type falls back", "garbage", NULL, "text\n", 1, "text", NULL, 0, 1, 0, 0, 0, 0, 0, 0, NULL },
	{ "endless part headers", "multipart/mixed; boundary=e", NULL, "--e\nContent-Type: text/plain\n", 1,
	  NULL, NULL, 0, 0, 0, 0, 1, 0, 0, 0, NULL },
};

/* crlf - the LF text in wire form. */
static char *crlf(const char *s, size_t *n)
{
	size_t l = strlen(s);
	char *o = malloc(2 * l + 1);
	size_t j = 0;
	for (size_t i = 0; i < l; i++) {
		if (s[i] == '\n')
			o[j++] = '\r';
		o[j++] = s[i];
	}
	*n = j;
	return o;
}

static const struct mime_limits deflim = { 1 << 20, 50, 8, 65536 };

/* run - walk one case, whole or byte by byte. */
static mime_walker *run(const struct mcase *c, const struct mime_limits *lim, int bytewise)
{
	mime_walker *m = mime_new(lim);
	size_t n;
	char *b = crlf(c->body, &n);
	mime_begin(m, c->ctype, c->ctype ? strlen(c->ctype) : 0, c->cte, c->cte ? strlen(c->cte) : 0);
	if (bytewise)
		for (size_t i = 0; i < n; i++)
			mime_feed(m, (const unsigned char *)b + i, 1);
	else
		mime_feed(m, (const unsigned char *)b, n);
	mime_end(m);
	free(b);
	return m;
}

static int contains(const char *hay, size_t hl, const char *needle)
{
	size_t nl = strlen(needle);
	for (size_t i = 0; i + nl <= hl; i++)
		if (memcmp(hay + i, needle, nl) == 0)
			return 1;
	return 0;
}

static void test_cases(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct mcase *c = &cases[i];
		for (int bw = 0; bw < 2; bw++) {
			mime_walker *m = run(c, &deflim, bw);
			const struct mime_facts *f = mime_facts(m);
			const char *how = bw ? " (bytewise)" : "";
			size_t pl, hl;
			const char *pt = mime_text(m, MIME_TEXT_PLAIN, &pl);
			const char *ht = mime_text(m, MIME_TEXT_HTML, &hl);
			T_INT(f->nparts, c->nparts, "%s%s: parts", c->name, how);
			if (c->plain)
				T_OK(contains(pt, pl, c->plain), "%s%s: plain text has \"%s\" (got \"%.*s\")", c->name, how,
				     c->plain, (int)pl, pt);
			if (c->html)
				T_OK(contains(ht, hl, c->html), "%s%s: html text has the decoded part (got \"%.*s\")",
				     c->name, how, (int)hl, ht);
			T_OK(f->html_parts == c->html_parts && f->text_parts == c->text_parts &&
			     f->image_parts == c->images && f->attachments == c->attachments,
			     "%s%s: counts html=%u text=%u img=%u att=%u", c->name, how, f->html_parts,
			     f->text_parts, f->image_parts, f->attachments);
			T_INT(f->malformed != 0, c->malformed, "%s%s: malformed (%s)", c->name, how, f->malformed_why);
			if (c->last_filename && f->nparts)
				T_STR(f->parts[f->nparts - 1].filename, c->last_filename, "%s%s: filename", c->name, how);
			if (strcmp(c->name, "attachment text is not scanned") == 0)
				T_INT(pl, 0, "%s%s: no text kept", c->name, how);
			mime_free(m);
		}
	}
}

/* test_caps - every cap is a flag, never a crash. */
static void test_caps(void)
{
	/* parts */
	struct mime_limits l = deflim;
	l.max_parts = 3;
	struct mcase c = { "many parts", "multipart/mixed; boundary=q", NULL,
	                   "--q\n\na\n--q\n\nb\n--q\n\nc\n--q\n\nd\n--q--\n", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	mime_walker *m = run(&c, &l, 0);
	T_OK(mime_facts(m)->over_parts && mime_facts(m)->nparts == 3, "cap: parts");
	mime_free(m);
	/* depth */
	l = deflim;
	l.max_depth = 2;
	c.body = "--q\nContent-Type: multipart/mixed; boundary=r\n\n--r\nContent-Type: multipart/mixed; boundary=s\n\n"
	         "--s\n\ndeep\n--s--\n--r--\n--q--\n";
	m = run(&c, &l, 0);
	T_OK(mime_facts(m)->over_depth, "cap: depth");
	mime_free(m);
	/* bytes */
	l = deflim;
	l.max_bytes = 10;
	c.body = "--q\n\nthis is longer than ten bytes\n--q--\n";
	m = run(&c, &l, 0);
	T_OK(mime_facts(m)->over_bytes && mime_facts(m)->scanned == 10, "cap: bytes (scanned %llu)",
	     mime_facts(m)->scanned);
	mime_free(m);
	/* text */
	l = deflim;
	l.text_max = 4;
	struct mcase t = { "text", NULL, NULL, "0123456789\n", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	m = run(&t, &l, 0);
	size_t pl;
	mime_text(m, MIME_TEXT_PLAIN, &pl);
	T_OK(mime_facts(m)->text_truncated && pl == 4, "cap: text kept (%zu)", pl);
	mime_free(m);
	/* a 100 KB line is handled in pieces */
	size_t big = 100000;
	char *b = malloc(big + 1);
	memset(b, 'x', big);
	b[big] = '\0';
	t.body = b;
	l = deflim;
	l.text_max = 2 * big;
	m = run(&t, &l, 0);
	mime_text(m, MIME_TEXT_PLAIN, &pl);
	T_OK(mime_facts(m)->long_lines && pl == big + 1, "long line in pieces (%zu)", pl);
	mime_free(m);
	free(b);
	/* deep nesting far past the hard stack */
	buf *d = buf_new(1 << 20);
	for (int i = 0; i < 200; i++)
		buf_printf(d, "--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i + 1);
	l = deflim;
	l.max_depth = 1000;
	l.max_parts = 1000;
	struct mcase dc = { "deep", "multipart/mixed; boundary=b0", NULL, buf_data(d), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	m = run(&dc, &l, 0);
	T_OK(mime_facts(m)->over_depth, "cap: depth beyond the hard stack");
	mime_free(m);
	buf_free(d);
}

static void test_param(void)
{
	static const struct { const char *v, *name, *want; } pc[] = {
		{ "text/plain; charset=\"UTF-8\"", "charset", "UTF-8" },
		{ "multipart/mixed;\r\n boundary=\"=_a;b\"; x=y", "boundary", "=_a;b" },
		{ "attachment; filename*=UTF-8''%e2%82%ac.pdf", "filename", "\xe2\x82\xac.pdf" },
		{ "attachment; filename*0=\"part1\"; filename*1=\"part2\"", "filename", "part1" },
		{ "a/b; Name = value ", "name", "value" },
		{ "a/b; xname=v; name=w", "name", "w" },
		{ "a/b; name=\"unterminated", "name", "unterminated" },
	};
	for (size_t i = 0; i < sizeof(pc) / sizeof(pc[0]); i++) {
		char out[64];
		int r = mime_param(pc[i].v, strlen(pc[i].v), pc[i].name, out, sizeof(out));
		T_OK(r == 0, "param %zu found", i);
		T_STR(out, pc[i].want, "param %zu value", i);
	}
	char out[8];
	T_INT(mime_param("a/b; x=1", 8, "name", out, sizeof(out)), -1, "param absent");
}

/* the exported (ptr, len) decoders: bad characters, padding, soft line
 * breaks, line ends, the output cap. */
struct dec_case {
	const char *name;
	int qp;            /* mime_qp_decode, else mime_b64_decode from a fresh state */
	const char *in;
	size_t cap;
	unsigned rc;
	const char *out;   /* what was written */
};

static const struct dec_case dec_cases[] = {
	{ "b64 plain", 0, "aGVsbG8=", 32, 0, "hello" },
	{ "b64 line ends and spaces skipped", 0, "aGVs\r\nbG8 =\n", 32, 0, "hello" },
	{ "b64 bad characters skipped, flagged", 0, "aG!Vs*bG8=", 32, MIME_DEC_BAD, "hello" },
	{ "b64 padding ends the group", 0, "QQ==QUI=", 32, 0, "AAB" },
	{ "b64 over the cap", 0, "QUJD", 2, MIME_DEC_OVER, "AB" },
	{ "b64 exactly the cap", 0, "QUJD", 3, 0, "ABC" },
	{ "b64 empty", 0, "", 0, 0, "" },
	{ "qp =XX either case", 1, "a=3Db=3dc", 32, 0, "a=b=c" },
	{ "qp soft line breaks (CRLF, LF)", 1, "a=\r\nb=\nc", 32, 0, "abc" },
	{ "qp soft break with white space after it", 1, "a= \t\r\nb", 32, 0, "ab" },
	{ "qp trailing white space dropped, line ends kept", 1, "x  \r\ny\t\nz", 32, 0, "x\r\ny\nz" },
	{ "qp bad escapes stay, soft break at the end", 1, "=ZZ=4=", 32, MIME_DEC_SOFT, "=ZZ=4" },
	{ "qp short escape at the end stays", 1, "=4", 32, 0, "=4" },
	{ "qp over the cap", 1, "abcdef", 4, MIME_DEC_OVER, "abcd" },
	{ "qp a line end over the cap", 1, "ab\r\n", 3, MIME_DEC_OVER, "ab\r" },
	{ "qp exactly the cap", 1, "ab\r\n", 4, 0, "ab\r\n" },
	{ "qp empty", 1, "", 0, 0, "" },
};

static void test_decoders(void)
{
	char out[64];
	size_t n;
	for (size_t i = 0; i < sizeof(dec_cases) / sizeof(dec_cases[0]); i++) {
		const struct dec_case *c = &dec_cases[i];
		struct mime_b64 st = { 0, 0 };
		unsigned rc = c->qp ? mime_qp_decode(c->in, strlen(c->in), out, c->cap, &n)
		                    : mime_b64_decode(&st, c->in, strlen(c->in), out, c->cap, &n);
		out[n] = '\0';
		T_INT(rc, c->rc, "%s: result", c->name);
		T_STR(out, c->out, "%s: output", c->name);
	}
	struct mime_b64 st = { 0, 0 };
	size_t n2;
	mime_b64_decode(&st, "aGV", 3, out, 32, &n);
	mime_b64_decode(&st, "sbG8=", 5, out + n, 32 - n, &n2);
	out[n + n2] = '\0';
	T_STR(out, "hello", "b64: state carried across pieces");
}

int main(void)
{
	test_cases();
	test_caps();
	test_param();
	test_decoders();
	return t_done();
}
