/*
 * result - RFC 8601 result words.
 */
#include "result.h"

/* result_name - the word for r. */
const char *result_name(enum auth_result r)
{
	static const char *const names[] = {
		[AR_NONE] = "none", [AR_PASS] = "pass", [AR_FAIL] = "fail",
		[AR_SOFTFAIL] = "softfail", [AR_NEUTRAL] = "neutral",
		[AR_TEMPERROR] = "temperror", [AR_PERMERROR] = "permerror",
		[AR_POLICY] = "policy",
	};
	if ((unsigned)r < sizeof(names) / sizeof(names[0]) && names[r])
		return names[r];
	return "none";
}
