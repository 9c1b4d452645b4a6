/*
 * test_urls - URL host extraction, link-text hosts, plain-text and HTML
 * scanning (anchors, images, visible text, unsubscribe links), the URL cap.
 */
#include <stdlib.h>
#include "t.h"
#include "urls.h"

static void test_host(void)
{
	static const struct { const char *url, *host; int ip; } hc[] = {
		{ "http://Example.COM/path", "example.com", 0 },
		{ "https://user:pw@www.example.com:8443/x?y#z", "www.example.com", 0 },
		{ "http://198.51.100.7/login", "198.51.100.7", 1 },
		{ "http://3221225985/", "3221225985", 1 },
		{ "http://0xc0.0x00.0x02.0x01/", "0xc0.0x00.0x02.0x01", 1 },
		{ "http://[2001:db8::1]:80/", "2001:db8::1", 1 },
		{ "www.example.org/a", "www.example.org", 0 },
		{ "https://example.com./", "example.com", 0 },
		{ "http://ex%61mple.com/", "example.com", 0 },
		{ "http://a@b@evil.test/", "evil.test", 0 },
		{ "http://deadbeef.test/", "deadbeef.test", 0 },
	};
	for (size_t i = 0; i < sizeof(hc) / sizeof(hc[0]); i++) {
		char h[256];
		int ip = -1;
		int r = urls_host(hc[i].url, strlen(hc[i].url), h, sizeof(h), &ip);
		T_OK(r == 0, "host of %s found", hc[i].url);
		T_STR(h, hc[i].host, "host of %s", hc[i].url);
		T_INT(ip, hc[i].ip, "ip flag of %s", hc[i].url);
	}
	static const char *const none[] = { "mailto:a@example.com", "ftp//x", "", "http://", "just text" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		char h[256];
		int ip;
		T_INT(urls_host(none[i], strlen(none[i]), h, sizeof(h), &ip), -1, "no host in \"%s\"", none[i]);
	}
}

static void test_text_host(void)
{
	static const struct { const char *text, *host; } tc[] = {
		{ "https://www.paypal.com/signin", "www.paypal.com" },
		{ "  Log in at www.bank.example now ", "www.bank.example" },
		{ "paypal.com", "paypal.com" },
		{ "example.org/offers", "example.org" },
		{ "report.pdf", NULL },
		{ "Click here", NULL },
		{ "Visit example.com today", NULL },
		{ "awww.example.com", "awww.example.com" },
		{ "xwww.example.com/p q", NULL },
	};
	for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
		char h[256];
		int r = urls_text_host(tc[i].text, strlen(tc[i].text), h, sizeof(h));
		if (tc[i].host)
			T_STR(r == 0 ? h : "(none)", tc[i].host, "link text \"%s\"", tc[i].text);
		else
			T_INT(r, -1, "link text \"%s\" shows no domain", tc[i].text);
	}
}

struct scase {
	const char *name;
	int html;
	const char *text;
	size_t count;
	const char *host0, *text_host0;
	int unsub;
	unsigned imgs, anchors;
};

static const struct scase sc[] = {
	{ "plain URLs", 0, "See https://example.com/a. Or (www.example.org)! mailto:x@y.test\n", 2,
	  "example.com", "", 0, 0, 0 },
	{ "plain unsubscribe", 0, "To unsubscribe visit https://example.com/u\n", 1, "example.com", "", 1, 0, 0 },
	{ "plain unsubscribe without link", 0, "Reply UNSUBSCRIBE to stop\n", 0, NULL, NULL, 0, 0, 0 },
	{ "html anchor mismatch", 1, "<a href=\"http://evil.test/x\">https://www.paypal.com</a>", 1,
	  "evil.test", "www.paypal.com", 0, 0, 1 },
	{ "html entities in href", 1, "<A HREF='https://e.test/?a=1&amp;b=2'>Shop <b>now</b></A>", 1,
	  "e.test", "", 0, 0, 1 },
	{ "html unsubscribe anchor", 1, "<p>Bye</p><a href=\"https://e.test/u?id=1\">Unsubscribe</a>", 1,
	  "e.test", "", 1, 0, 1 },
	{ "html unsubscribe in URL", 1, "<a href=\"https://e.test/unsubscribe?id=1\">here</a>", 1,
	  "e.test", "", 1, 0, 1 },
	{ "images and comments", 1, "<!-- <a href=http://hidden.test>x</a> --><img src=a.png><IMG SRC=\"b\">"
	  "<script>var a='<a href=http://s.test>';</script>", 0, NULL, NULL, 0, 2, 0 },
	{ "unclosed tag", 1, "<a href=\"http://u.test/", 1, "u.test", "", 0, 0, 1 },
	{ "unclosed anchor", 1, "<a href=http://u.test/x>text", 1, "u.test", "", 0, 0, 1 },
	{ "lone angle", 1, "1 < 2 <a href=http://v.test>v</a>", 1, "v.test", "", 0, 0, 1 },
	{ "plain non-ASCII unsubscribe word", 0, "Pour vous d\xc3\xa9sinscrire : https://f.test/x\n", 1,
	  "f.test", "", 1, 0, 0 },
	{ "html non-ASCII unsubscribe anchor", 1, "<a href=\"https://f.test/x\">Se d\xc3\xa9sabonner</a>", 1,
	  "f.test", "", 1, 0, 1 },
	{ "html upper-case non-ASCII unsubscribe anchor", 1, "<a href=\"https://f.test/x\">D\xc3\x89SINSCRIPTION</a>", 1,
	  "f.test", "", 1, 0, 1 },
	{ "non-ASCII near miss", 1, "<a href=\"https://f.test/x\">d\xc3\xa8sinscrire</a>", 1,
	  "f.test", "", 0, 0, 1 },
	{ "duplicate URLs kept once", 0, "http://d.test/ http://d.test/ http://d.test/\n", 1, "d.test", "", 0, 0, 0 },
};

static void test_scan(void)
{
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]); i++) {
		const struct scase *c = &sc[i];
		struct url_set *u = urls_new(10);
		if (c->html)
			urls_scan_html(u, c->text, strlen(c->text));
		else
			urls_scan_text(u, c->text, strlen(c->text));
		T_INT(u->count, c->count, "%s: count", c->name);
		if (c->host0 && u->count) {
			T_STR(u->items[0].host, c->host0, "%s: host", c->name);
			T_STR(u->items[0].text_host, c->text_host0, "%s: link text host", c->name);
		}
		T_INT(u->unsub_link, c->unsub, "%s: unsubscribe link", c->name);
		T_INT(u->img_tags, c->imgs, "%s: images", c->name);
		T_INT(u->anchors, c->anchors, "%s: anchors", c->name);
		urls_free(u);
	}
	/* visible text: tags, script and entities are not text */
	struct url_set *u = urls_new(10);
	const char *h = "<html><style>p{}</style><p>ab&amp;c</p> <b>d</b></html>";
	urls_scan_html(u, h, strlen(h));
	T_INT(u->html_text, 5, "visible text counted");
	urls_free(u);
	/* the cap */
	u = urls_new(3);
	const char *many = "http://a.test http://b.test http://c.test http://d.test http://e.test";
	urls_scan_text(u, many, strlen(many));
	T_OK(u->count == 3 && u->more, "cap: 3 kept, more set");
	urls_free(u);
}

int main(void)
{
	test_host();
	test_text_host();
	test_scan();
	return t_done();
}
