/*
 * urls - URLs and links found in a message's decoded text, for the spam
 * signals: bare http/https/www URLs in text/plain, and in HTML the href of
 * each <a> paired with its link text, <img> tags, and the amount of visible
 * text (outside tags, comments, <script> and <style>).
 *
 * At most `max` URLs are kept (the cap the configuration gives, because every
 * URL may cost a blocklist query); more sets `more`. A URL is kept once
 * (same text and same link-text host). Hosts are lowercased without a trailing
 * dot; `ip` marks a host that is an address (dotted quad, a single 32-bit
 * number, [IPv6]). Input is (pointer, length) and may hold any byte.
 */
#ifndef TM_URLS_H
#define TM_URLS_H

#include <stddef.h>

#define URL_TEXT_MAX 256      /* URL text kept for reasons and logs (the host is always whole) */
#define URL_HOST_MAX 256      /* a DNS name is at most 253 */
#define URL_LINKTEXT_MAX 512  /* link text examined per anchor */

struct url_item {
	char url[URL_TEXT_MAX];       /* printable, cut at URL_TEXT_MAX-1 */
	char host[URL_HOST_MAX];      /* "" if the URL has no host */
	char text_host[URL_HOST_MAX]; /* host the link text shows (HTML anchors), "" if none */
	int ip;                       /* host is an IP address */
	int html;                     /* from an <a href> */
};

struct url_set {
	size_t count, max;
	int more;                     /* URLs past max were seen */
	struct url_item *items;
	unsigned long html_text;      /* visible non-space bytes of HTML */
	unsigned img_tags;            /* <img> tags */
	unsigned anchors;             /* <a href> tags */
	int unsub_link;               /* an unsubscribe / opt-out link is visible in the body */
};

/* urls_new - an empty set for at most max URLs; NULL on out of memory. */
struct url_set *urls_new(size_t max);
void urls_free(struct url_set *u);
/* urls_scan_text - bare URLs in plain text. */
void urls_scan_text(struct url_set *u, const char *p, size_t n);
/* urls_scan_html - anchors, images, visible text and bare URLs in text of HTML. */
void urls_scan_html(struct url_set *u, const char *p, size_t n);
/* urls_host - the host of URL (p,n) into host[hsz] (lowercase, no trailing
 * dot, no brackets); *ip set when it is an address. 0 ok, -1 no host. */
int urls_host(const char *p, size_t n, char *host, size_t hsz, int *ip);
/* urls_text_host - the host a piece of link text shows: a URL, "www.name",
 * or the whole text being a domain with a common top-level domain. 0 ok, -1 none. */
int urls_text_host(const char *p, size_t n, char *host, size_t hsz);

#endif
