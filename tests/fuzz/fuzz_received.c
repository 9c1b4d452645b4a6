/*
 * fuzz_received - received_parse on arbitrary bytes (not NUL-terminated):
 * every name it returns is NUL-terminated printable text within its array,
 * and a returned address is a valid one.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cidr.h"
#include "received.h"

static void check_text(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct received r;
	int rc = received_parse((const char *)data, size, &r);
	check_text(r.helo, sizeof(r.helo));
	check_text(r.ip, sizeof(r.ip));
	check_text(r.by, sizeof(r.by));
	unsigned char a[16];
	if (r.ip[0] && !cidr_addr(r.ip, a))
		abort();
	if (rc == 0 && (!r.helo[0] || !r.ip[0]))
		abort();
	return 0;
}
