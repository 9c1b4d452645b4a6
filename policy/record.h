/*
 * record - the audit record (stats/audit.h) of an evaluated message, built
 * by the session at end of message for the environment's record sink
 * (tm_env_set_record_sink in session.h).
 */
#ifndef TM_RECORD_H
#define TM_RECORD_H

#include <stddef.h>
#include "audit.h"

struct session;
/* audit_from_session - fill r from an evaluated session (after session_eom);
 * 0 ok, -1 when the session holds no evaluated message. */
int audit_from_session(const struct session *s, struct audit_record *r);
/* audit_copy - copy (p,n) into dst as printable ASCII, '~' marking a cut. */
void audit_copy(char *dst, size_t dstsz, const char *p, size_t n);

#endif
