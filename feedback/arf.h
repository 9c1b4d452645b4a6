/*
 * arf - RFC 5965 Abuse Reporting Format (with the RFC 6650 rules):
 * a multipart/report; report-type=feedback-report message whose
 * message/feedback-report part carries Feedback-Type, User-Agent, Version,
 * Original-Mail-From, Original-Rcpt-To, Arrival-Date, Reported-Domain,
 * Source-IP and Authentication-Results, followed by the reported message
 * (message/rfc822) or its header (text/rfc822-headers), often redacted.
 *
 * From the returned message we keep what ties the complaint to our own
 * outbound record: Message-ID, the From domain and the campaign key (the
 * configured campaign header, else List-Id, else Feedback-ID: the same
 * order as the daemon's bulk.c). Missing optional fields stay empty; CRLF
 * and LF, base64 and quoted-printable parts are read alike; every value is
 * a printable, cut copy.
 */
#ifndef TM_ARF_H
#define TM_ARF_H

#include <stddef.h>
#include <stdint.h>

#define ARF_MSG_MAX (4u << 20)     /* a report message above this is refused */
#define ARF_PART_MAX (1u << 20)    /* a decoded part is read up to this */

struct arf_report {
	char feedback_type[32];        /* lower case: abuse fraud not-spam auth-failure virus other ... */
	int complaint;                 /* abuse or fraud */
	char user_agent[128], version[16];
	char original_mail_from[256], original_rcpt_to[256];
	char arrival_date[64];
	int64_t arrival_ts;            /* 0: absent or not a date */
	char reported_domain[256], source_ip[64], auth_results[512];
	char original[24];             /* "message", "headers" or "none" */
	char message_id[256], from_domain[256], campaign[256], subject[256];
	char recipient_domain[256];    /* from Original-Rcpt-To, else the returned To */
};

/* arf_parse - parse a whole message. 0 with *r filled, or -1 with *error a
 * finding name: feedback.arf.too_large, feedback.arf.not_arf,
 * feedback.arf.no_feedback_part, feedback.arf.no_feedback_type.
 * campaign_header: the configured bulk.campaign_header ("" or NULL: none). */
int arf_parse(const char *msg, size_t len, const char *campaign_header, struct arf_report *r,
              const char **error);

/* arf_is_report - the message's top-level type is multipart/report with
 * report-type=feedback-report. */
int arf_is_report(const char *msg, size_t len);

#endif
