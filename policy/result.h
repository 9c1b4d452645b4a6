/*
 * result - the RFC 8601 result words shared by SPF, DKIM, DMARC and iprev.
 */
#ifndef TM_RESULT_H
#define TM_RESULT_H

enum auth_result {
	AR_NONE = 0,
	AR_PASS,
	AR_FAIL,
	AR_SOFTFAIL,
	AR_NEUTRAL,
	AR_TEMPERROR,
	AR_PERMERROR,
	AR_POLICY
};

/* result_name - the RFC 8601 word for r ("pass", "fail", ...). */
const char *result_name(enum auth_result r);

#endif
