/*
 * fuzz_lex5322 - every lexer piece on arbitrary bytes (not NUL-terminated),
 * from every start offset the first byte picks: positions only move
 * forward and stay within the input, an error always ends at the input's
 * end, decoded text fits its buffer and is terminated, and the shared
 * helpers agree with their definitions.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "lex5322.h"
#include "buf.h"

static void check_pos(int rc, size_t start, size_t pos, size_t n)
{
	if (pos < start || pos > n || (rc != LEX_OK && pos != n))
		abort();
}

static void one(const char *p, size_t n, size_t i)
{
	size_t pos = i;
	int rc = lex_cfws(p, n, &pos, NULL);
	check_pos(rc, i, pos, n);
	if (rc != LEX_OK && rc != LEX_UNCLOSED && rc != LEX_TOO_DEEP)
		abort();

	size_t a = lex_atom(p, n, i, 1), d = lex_dot_atom_text(p, n, i, 0);
	if (i + a > n || i + d > n)
		abort();
	for (size_t k = 0; k < d; k++)
		if (p[i + k] != '.' && !lex_is_atext((unsigned char)p[i + k]))
			abort();
	if (d && (p[i] == '.' || p[i + d - 1] == '.'))
		abort();

	if (i < n && p[i] == '"') {
		char out[32];
		size_t olen = 0;
		pos = i;
		rc = lex_qstring(p, n, &pos, out, sizeof(out), &olen, (unsigned char)p[0] & 3u);
		check_pos(rc, i, pos, n);
		if (olen >= sizeof(out) || out[olen] != '\0')
			abort();
		if (rc == LEX_OK && p[pos - 1] != '"')
			abort();
	}
	if (i < n && p[i] == '[') {
		pos = i;
		rc = lex_dliteral(p, n, &pos, p[0] & 1);
		check_pos(rc, i, pos, n);
		if (rc == LEX_OK && p[pos - 1] != ']')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	for (size_t i = 0; i < size && i < 64; i++)
		one(p, size, i);

	int printable = size > 0;
	for (size_t i = 0; i < size; i++)
		printable &= data[i] > ' ' && data[i] < 0x7f && data[i] != ':';
	if (lex_field_name(p, size) != printable)
		abort();

	size_t half = size / 2;
	int below = dom_at_or_below(p, size, p + half, size - half);
	if (below && size - half == 0)
		abort();
	(void)fnv1a32(FNV32_INIT, p, size);
	(void)fnv1a64(FNV64_INIT, p, size);
	return 0;
}
