/*
 * fuzz_arf - the report classifier and the ARF parser on arbitrary bytes:
 * every field it returns is NUL-terminated printable text, and a complaint
 * is only ever abuse or fraud.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "arf.h"
#include "ingest.h"

static void printable(const char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == cap)
		abort();
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arf_report r;
	const char *err;
	if (arf_parse((const char *)data, size, "X-Campaign", &r, &err) == 0) {
		printable(r.feedback_type, sizeof(r.feedback_type));
		printable(r.message_id, sizeof(r.message_id));
		printable(r.from_domain, sizeof(r.from_domain));
		printable(r.campaign, sizeof(r.campaign));
		printable(r.recipient_domain, sizeof(r.recipient_domain));
		printable(r.auth_results, sizeof(r.auth_results));
		if (r.complaint && strcmp(r.feedback_type, "abuse") && strcmp(r.feedback_type, "fraud"))
			abort();
	} else if (err == NULL || strncmp(err, "feedback.", 9) != 0)
		abort();
	struct ingest_result *ir = calloc(1, sizeof(*ir));
	enum ingest_kind k = ingest_parse((const char *)data, size, "", ir);
	if (k == INGEST_NONE && ir->error == NULL)
		abort();
	ingest_free(ir);
	free(ir);
	return 0;
}
