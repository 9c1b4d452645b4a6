/*
 * fuzz_aggrep - the DMARC aggregate report parser on arbitrary bytes: a
 * refused report keeps nothing, an accepted one has its required fields and
 * at most the record cap.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "aggrep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *x = malloc(size + 1);
	if (x == NULL)
		return 0;
	memcpy(x, data, size);
	x[size] = '\0';
	struct aggrep a;
	const char *err;
	if (aggrep_parse(x, size, &a, &err) == 0) {
		if (!a.org_name[0] || !a.report_id[0] || !a.domain[0] || a.nrec > AGGREP_RECORDS_MAX)
			abort();
		for (size_t i = 0; i < a.nrec; i++)
			if (!a.rec[i].source_ip[0])
				abort();
		aggrep_free(&a);
	} else if (a.rec != NULL || err == NULL)
		abort();
	free(x);
	return 0;
}
