/*
 * session - the policy core's session API: the milter's own events in, a
 * verdict out. Knows nothing about libmilter; trustmilter-check and the tests
 * drive exactly the same calls from files.
 *
 * tm_env is the process-wide, immutable environment (config snapshot, DNS
 * resolver, DKIM engine), reference counted so that a reload can swap it while
 * old sessions finish on the old one. A session is one SMTP connection; it can
 * carry several messages (session_abort() or session_eom() end one).
 *
 * Event order: connect, helo, (mail, rcpt+, header*, eoh, body*, eom | abort)*.
 * Headers are given as received: name, and raw value (folding kept, without the
 * colon; a single leading space is part of the value). Body chunks are in SMTP
 * wire form (CRLF line ends, no dot-stuffing); the body is hashed as it
 * arrives, never stored whole.
 *
 * Return conventions: event functions return 0, or -1 when the session can no
 * longer evaluate (out of memory); session_eom() always returns a verdict.
 */
#ifndef TM_SESSION_H
#define TM_SESSION_H

#include <stddef.h>
#include "conf.h"
#include "buf.h"
#include "verdict.h"

typedef struct tm_env tm_env;
typedef struct session session;

enum direction { DIR_INBOUND = 0, DIR_OUTBOUND };

/* tm_env_new - build resolver and DKIM engine from c (takes a reference). */
tm_env *tm_env_new(conf *c, char *err, size_t errlen);
tm_env *tm_env_ref(tm_env *e);
void tm_env_unref(tm_env *e);
const conf *tm_env_conf(const tm_env *e);
/* tm_record_sink - where the audit record (stats/audit.h) of every evaluated
 * message goes: called by session_eom, on the thread that evaluated the
 * message, with a record that is freed when it returns (copy what you keep).
 * It must not block: the daemon's sink queues the record for the store's
 * writer thread and counts it (stats/); trustmilter-check's queues it. */
struct audit_record;
typedef void (*tm_record_sink)(void *arg, const struct audit_record *r);
/* tm_env_set_record_sink - set by the program (the daemon, trustmilter-check)
 * before the env is shared; arg is not owned and must outlive the env (a
 * reload's new env gets the same sink). Without a sink (fn NULL, the
 * default) no record is built. */
void tm_env_set_record_sink(tm_env *e, tm_record_sink fn, void *arg);
/* tm_env_policy - the configuration compiled at tm_env_new (policy.h). */
const struct policy *tm_env_policy(const tm_env *e);
/* tm_env_signkeys - the DKIM signing keys of the configuration (signkeys.h). */
struct signkeys;
const struct signkeys *tm_env_signkeys(const tm_env *e);
/* tm_env_hostname - the configured or system host name. */
const char *tm_env_hostname(const tm_env *e);

session *session_new(tm_env *env);
void session_free(session *s);

/* session_connect - client host name (may be NULL/"unknown") and IP text (may be NULL). */
int session_connect(session *s, const char *hostname, const char *ip);
int session_helo(session *s, const char *helo);
/* session_direction_name - "inbound" or "outbound". */
const char *session_direction_name(enum direction d);
/* session_set_direction - decided by the caller (CLI flag or daemon rules); reason is logged. */
void session_set_direction(session *s, enum direction d, const char *reason);
/* session_set_seal - 1: every message of the session gets an ARC set
 * (trustmilter-check --seal; needs arc.seal_key); 0 (the default): arc.seal
 * and its lists decide. */
void session_set_seal(session *s, int always);
/* session_set_macro - MTA facts: "i" (queue id), "auth_authen", "tls_version", "daemon_name". */
void session_set_macro(session *s, const char *name, const char *value);
/* session_set_source - where the message came from (file name, index in an mbox), for reports. */
void session_set_source(session *s, const char *file, size_t index);
/* session_add_finding - a finding the caller observed (e.g. a malformed header line in a file). */
void session_add_finding(session *s, const char *name, const char *detail);
/* session_mail - MAIL FROM path ("<a@b>", "a@b" or "<>"); starts a new message. */
int session_mail(session *s, const char *path);
int session_rcpt(session *s, const char *path);
int session_header(session *s, const char *name, size_t nlen, const char *value, size_t vlen);
int session_eoh(session *s);
int session_body(session *s, const unsigned char *p, size_t n);
/* session_eom - evaluate everything and decide; the verdict lives until the next message. */
const struct verdict *session_eom(session *s);
/* session_abort - forget the current message, keep the connection. */
void session_abort(session *s);

/* session_feedback - after session_eom: the copy of a report message (to
 * a feedback.*_recipients mailbox, inbound; header section, empty line,
 * body) and its length, for the daemon to hand to the report parsers; NULL
 * for other mail and for a copy past its cap (feedback.report.too_large). */
const char *session_feedback(const session *s, size_t *len);

/* session_report_json - the per-message JSON object (docs/JSON.md). */
int session_report_json(const session *s, buf *out);
/* session_report_text - the human report of trustmilter-check. */
int session_report_text(const session *s, buf *out);
/* session_log_line - one "QUEUEID: key=value ..." log line. */
int session_log_line(const session *s, buf *out);
/* session_finding_count, session_finding_name - the evaluated message's findings. */
size_t session_finding_count(const session *s);
const char *session_finding_name(const session *s, size_t i);
/* session_readiness - provider 0 Gmail, 1 Yahoo, 2 Microsoft: "ready",
 * "not_ready" or "unknown" (could not check); NULL for another index. */
const char *session_readiness(const session *s, int provider);

#endif
