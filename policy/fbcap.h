/*
 * fbcap - the copy of a report message. Inbound mail whose envelope names
 * one of the report mailboxes (feedback.arf_recipients,
 * feedback.dmarc_recipients) is kept whole while it arrives: the header
 * section as received, an empty line, then the body in wire form, up to
 * FBCAP_MAX bytes. At end of message the session exposes the bytes
 * (session_feedback) and the daemon hands them to the report parsers off
 * the reply path. Nothing here parses a report: the policy core only holds
 * the bytes, and only for these messages.
 */
#ifndef TM_FBCAP_H
#define TM_FBCAP_H

#include <stddef.h>

#define FBCAP_MAX (16u << 20)   /* the report parsers' input cap (INGEST_INPUT_MAX) */

struct policy;
typedef struct fbcap fbcap;

/* fbcap_is_mailbox - does the RCPT path name one of pol's report mailboxes
 * (ASCII case-insensitive)? */
int fbcap_is_mailbox(const struct policy *pol, const char *path);
/* fbcap_new - an empty copy; NULL on OOM. */
fbcap *fbcap_new(void);
void fbcap_free(fbcap *c);
/* fbcap_header - one field as received ("name:" value CRLF). */
void fbcap_header(fbcap *c, const char *name, size_t nlen, const char *value, size_t vlen);
/* fbcap_body - a body chunk (the empty line first, once; n 0 at end of header). */
void fbcap_body(fbcap *c, const unsigned char *p, size_t n);
/* fbcap_data - the message so far and its length; NULL once it passed FBCAP_MAX. */
const char *fbcap_data(const fbcap *c, size_t *len);

#endif
