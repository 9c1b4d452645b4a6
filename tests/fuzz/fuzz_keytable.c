/*
 * fuzz_keytable - OpenDKIM KeyTable and SigningTable parsing on arbitrary
 * bytes (not NUL-terminated), and the SigningTable match of every entry in
 * both forms.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "keytable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keytable_key keys[16];
	static struct keytable_sign sign[16];
	char why[160];
	int n = keytable_parse_keys((const char *)data, size, keys, 16, why, sizeof(why));
	for (int i = 0; i < n; i++)
		if (!memchr(keys[i].path, '\0', sizeof(keys[i].path)) || keys[i].path[0] == '\0')
			abort();
	n = keytable_parse_signing((const char *)data, size, sign, 16, why, sizeof(why));
	for (int i = 0; i < n; i++) {
		(void)keytable_match(&sign[i], 0, "user", "example.com");
		(void)keytable_match(&sign[i], 1, "us*er", "sub.example.com");
	}
	return 0;
}
