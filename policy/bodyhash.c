/*
 * bodyhash - streaming DKIM body canonicalization and hash; see bodyhash.h.
 *
 * Line ends are held back: every CRLF only counts as pending until a byte of
 * content follows, so empty lines at the end are never hashed, and the final
 * CRLF is added at bodyhash_final when there was any content. A CR is held
 * until the next byte shows whether it ends a line (it may be the last byte
 * of a chunk). Under relaxed a run of SP/HTAB is held as "one space pending"
 * and dropped when the line ends. Output goes through a small buffer to the
 * hash in blocks.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "bodyhash.h"

#define OUT_BUF 4096

struct bodyhash {
	EVP_MD_CTX *md;
	int relaxed;
	int limited;
	unsigned long long limit;    /* l=, when limited */
	unsigned long long length;   /* canonicalized bytes produced */
	size_t crlfs;                /* line ends not yet produced */
	int cr;                      /* the previous byte was a CR */
	int wsp;                     /* relaxed: SP/HTAB run pending in this line */
	int content;                 /* some content was produced */
	int failed;
	size_t olen;
	unsigned char out[OUT_BUF];
};

bodyhash *bodyhash_new(enum bodyhash_canon canon, enum bodyhash_alg alg, long long limit)
{
	bodyhash *h = malloc(sizeof(*h));
	if (h == NULL)
		return NULL;
	memset(h, 0, offsetof(bodyhash, out));
	h->relaxed = canon == BODYHASH_RELAXED;
	h->limited = limit >= 0;
	h->limit = limit >= 0 ? (unsigned long long)limit : 0;
	h->md = EVP_MD_CTX_new();
	if (h->md == NULL ||
	    EVP_DigestInit_ex(h->md, alg == BODYHASH_SHA1 ? EVP_sha1() : EVP_sha256(), NULL) != 1) {
		bodyhash_free(h);
		return NULL;
	}
	return h;
}

void bodyhash_free(bodyhash *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->md);
	free(h);
}

/* flush - hand the buffered output to the hash. */
static void flush(bodyhash *h)
{
	if (h->olen > 0 && EVP_DigestUpdate(h->md, h->out, h->olen) != 1)
		h->failed = 1;
	h->olen = 0;
}

/* put - one canonicalized byte; past l= nothing is hashed. */
static inline void put(bodyhash *h, unsigned char c)
{
	if (h->limited && h->length >= h->limit)
		return;
	if (h->olen == OUT_BUF)
		flush(h);
	h->out[h->olen++] = c;
	h->length++;
}

/* put_run - n bytes of content with nothing held back before them. */
static void put_run(bodyhash *h, const unsigned char *p, size_t n)
{
	if (h->limited && n > h->limit - h->length)
		n = (size_t)(h->limit - h->length);
	if (n > OUT_BUF - h->olen) {
		flush(h);
		if (n >= OUT_BUF) {
			if (EVP_DigestUpdate(h->md, p, n) != 1)
				h->failed = 1;
			h->length += n;
			return;
		}
	}
	memcpy(h->out + h->olen, p, n);
	h->olen += n;
	h->length += n;
}

/* plain_run - how many bytes from p on pass through unchanged: no CR,
 * and under relaxed no HTAB and no SP other than a single one between two
 * such bytes (a space at the end of the chunk waits for the next). */
static size_t plain_run(const bodyhash *h, const unsigned char *p, size_t n)
{
	if (!h->relaxed) {
		const unsigned char *cr = memchr(p, '\r', n);
		return cr ? (size_t)(cr - p) : n;
	}
	size_t j = 0;
	while (j < n) {
		unsigned char c = p[j];
		if (c == '\r' || c == '\t')
			break;
		if (c == ' ') {
			if (j + 1 >= n || p[j + 1] == ' ' || p[j + 1] == '\t' || p[j + 1] == '\r')
				break;
			j += 2;
			continue;
		}
		j++;
	}
	return j;
}

/* content - a byte of line content: first the line ends and the space
 * held back before it. */
static void content(bodyhash *h, unsigned char c)
{
	for (; h->crlfs > 0; h->crlfs--) {
		put(h, '\r');
		put(h, '\n');
	}
	if (h->wsp) {
		put(h, ' ');
		h->wsp = 0;
	}
	put(h, c);
	h->content = 1;
}

int bodyhash_update(bodyhash *h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!h->cr && !h->wsp && h->crlfs == 0) {
			size_t run = plain_run(h, p + i, n - i);
			if (run > 0) {
				put_run(h, p + i, run);
				h->content = 1;
				i += run;
				if (i == n)
					break;
			}
		}
		unsigned char c = p[i];
		if (h->cr) {
			h->cr = 0;
			if (c == '\n') {
				h->wsp = 0;         /* relaxed: WSP at the end of a line goes */
				h->crlfs++;
				continue;
			}
			content(h, '\r');       /* a CR on its own is content */
		}
		if (c == '\r')
			h->cr = 1;
		else if (h->relaxed && (c == ' ' || c == '\t'))
			h->wsp = 1;
		else
			content(h, c);
	}
	return h->failed ? -1 : 0;
}

int bodyhash_final(bodyhash *h, unsigned char out[BODYHASH_MAX])
{
	if (h->cr) {
		h->cr = 0;
		content(h, '\r');
	}
	/* the line in progress (its trailing WSP dropped) or the last line's
	 * own CRLF; an empty body is CRLF under simple, nothing under relaxed */
	if (h->content || !h->relaxed) {
		put(h, '\r');
		put(h, '\n');
	}
	flush(h);
	unsigned len = 0;
	if (h->failed || EVP_DigestFinal_ex(h->md, out, &len) != 1 || len > BODYHASH_MAX)
		return -1;
	return (int)len;
}

int bodyhash_short(const bodyhash *h)
{
	return h->limited && h->length < h->limit;
}
