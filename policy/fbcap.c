/*
 * fbcap - the copy of a report message; see fbcap.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fbcap.h"
#include "buf.h"
#include "addr.h"
#include "policy.h"

struct fbcap {
	buf *b;
	int body;       /* the empty line after the header section is written */
};

/* in_list - addr (local@domain) is one of the n items (case-insensitive). */
static int in_list(const char *addr, size_t alen, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mem_caseeq(addr, alen, l[i], strlen(l[i])))
			return 1;
	return 0;
}

int fbcap_is_mailbox(const struct policy *pol, const char *path)
{
	if (pol->nfeedback_arf + pol->nfeedback_dmarc == 0 || path == NULL)
		return 0;
	char local[256], domain[256], addr[520];
	if (addr_parse_path(path, strlen(path), local, sizeof(local), domain, sizeof(domain)) < 0 ||
	    local[0] == '\0' || domain[0] == '\0')
		return 0;
	int n = snprintf(addr, sizeof(addr), "%s@%s", local, domain);
	if (n < 0 || (size_t)n >= sizeof(addr))
		return 0;
	return in_list(addr, (size_t)n, pol->feedback_arf, pol->nfeedback_arf) ||
	       in_list(addr, (size_t)n, pol->feedback_dmarc, pol->nfeedback_dmarc);
}

fbcap *fbcap_new(void)
{
	fbcap *c = calloc(1, sizeof(*c));
	if (c != NULL && (c->b = buf_new(FBCAP_MAX)) == NULL) {
		free(c);
		c = NULL;
	}
	return c;
}

void fbcap_free(fbcap *c)
{
	if (c == NULL)
		return;
	buf_free(c->b);
	free(c);
}

void fbcap_header(fbcap *c, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (c == NULL || c->body)
		return;
	buf_append(c->b, name, nlen);
	buf_putc(c->b, ':');
	buf_append(c->b, value, vlen);
	buf_append(c->b, "\r\n", 2);
}

void fbcap_body(fbcap *c, const unsigned char *p, size_t n)
{
	if (c == NULL)
		return;
	if (!c->body) {
		buf_append(c->b, "\r\n", 2);
		c->body = 1;
	}
	if (n > 0)
		buf_append(c->b, p, n);
}

const char *fbcap_data(const fbcap *c, size_t *len)
{
	if (c == NULL || buf_overflowed(c->b))
		return NULL;
	*len = buf_len(c->b);
	return buf_data(c->b);
}
