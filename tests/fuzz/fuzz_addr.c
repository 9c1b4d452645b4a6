/*
 * fuzz_addr - libFuzzer target for the address parsers in policy/addr.c:
 * the RFC 5322 list parser, the RFC 5321 path parser and the domain check,
 * all on the same (unterminated) input. Invariants checked: count never
 * exceeds ADDR_MAX, every output string is NUL-terminated within its array,
 * stored domains contain no upper-case ASCII.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include "addr.h"

/* check_str - abort unless s is terminated inside its array. */
static void check_str(const char *s, size_t sz)
{
	if (memchr(s, '\0', sz) == NULL)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a private copy so reads past size are caught by ASan */
	char *p = malloc(size ? size : 1);
	if (p == NULL)
		return 0;
	if (size)
		memcpy(p, data, size);

	struct addr_list l;
	size_t n = addr_parse_list(p, size, &l);
	if (n != l.count || n > ADDR_MAX)
		abort();
	for (size_t i = 0; i < l.count; i++) {
		check_str(l.a[i].local, sizeof(l.a[i].local));
		check_str(l.a[i].domain, sizeof(l.a[i].domain));
		check_str(l.a[i].display, sizeof(l.a[i].display));
		for (const char *d = l.a[i].domain; *d; d++)
			if (isupper((unsigned char)*d))
				abort();
		if (l.a[i].bad && !l.syntax_error)
			abort();
		(void)addr_domain_valid(l.a[i].domain, strlen(l.a[i].domain));
	}

	char local[ADDR_LOCAL_MAX], domain[ADDR_DOMAIN_MAX];
	int rc = addr_parse_path(p, size, local, sizeof(local), domain, sizeof(domain));
	check_str(local, sizeof(local));
	check_str(domain, sizeof(domain));
	if (rc < 0 && (local[0] || domain[0]))
		abort();
	/* small buffers exercise the "does not fit" paths */
	char sl[8], sd[8];
	(void)addr_parse_path(p, size, sl, sizeof(sl), sd, sizeof(sd));
	(void)addr_domain_valid(p, size);
	free(p);
	return 0;
}
