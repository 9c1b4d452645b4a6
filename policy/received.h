/*
 * received - the connection facts one Received: field records (RFC 5321
 * 4.4): the name the client gave in HELO/EHLO ("from NAME"), the client's
 * address from the TCP-info comment ("(rdns [192.0.2.1])"), and the
 * receiving host ("by NAME"). trustmilter-check --from-received reads them
 * from the field that the receiving side added at the top of a saved message.
 *
 * Input is (pointer, length), raw or unfolded; nothing needs a NUL.
 */
#ifndef TM_RECEIVED_H
#define TM_RECEIVED_H

#include <stddef.h>

#define RECEIVED_NAME_MAX 256    /* a domain name fits in 253 */
#define RECEIVED_IP_MAX 64       /* the longest IPv6 text is 45 */

struct received {
	char helo[RECEIVED_NAME_MAX];   /* "" when the field has no from clause */
	char ip[RECEIVED_IP_MAX];       /* a valid IPv4 or IPv6 address, or "" */
	char by[RECEIVED_NAME_MAX];     /* "" when there is no by clause */
};

/* received_parse - fill out from one field value. Returns 0 when the field
 * gives both a from name and a client address, -1 otherwise (an internal
 * hop written as "by ... with ..." only, or text that is not a Received
 * field); out is filled as far as it was read either way. */
int received_parse(const char *v, size_t n, struct received *out);

#endif
