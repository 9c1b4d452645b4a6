/*
 * test_fbcap - the copy of a report message: which recipients are report
 * mailboxes, the bytes the session exposes (header section, empty line,
 * body), nothing for other mail or outbound mail, the cap, and
 * feedback.after = discard.
 */
#include <stdlib.h>
#include <string.h>
#include "t.h"
#include "session.h"
#include "policy.h"
#include "fbcap.h"
#include "verdict.h"

static tm_env *env_with(const char *after)
{
	char err[512];
	conf *c = conf_load(NULL, err, sizeof(err));
	conf_set(c, "dns.forwarders", "127.0.0.1@1", err, sizeof(err));
	conf_set(c, "dns.timeout_ms", "100", err, sizeof(err));
	conf_set(c, "feedback.arf_recipients", "FBL@example.com", err, sizeof(err));
	conf_set(c, "feedback.dmarc_recipients", "rua@example.com", err, sizeof(err));
	conf_set(c, "feedback.after", after, err, sizeof(err));
	tm_env *e = tm_env_new(c, err, sizeof(err));
	conf_unref(c);
	return e;
}

/* message - one message to rcpts (NULL-terminated); body of n bytes of 'x'
 * when n, else "hello\r\n". Returns the verdict. */
static const struct verdict *message(session *s, enum direction d, const char *const *rcpts, size_t n)
{
	session_mail(s, "<a@sender.example>");
	session_set_direction(s, d, "test");
	for (size_t i = 0; rcpts[i]; i++)
		session_rcpt(s, rcpts[i]);
	session_header(s, "From", 4, " a@sender.example", 17);
	session_header(s, "Subject", 7, " report\r\n\tfolded", 16);
	session_eoh(s);
	if (n == 0) {
		session_body(s, (const unsigned char *)"hello\r\n", 7);
	} else {
		unsigned char *b = malloc(1 << 20);
		memset(b, 'x', 1 << 20);
		for (size_t k = 0; k < n; k += 1 << 20)
			session_body(s, b, n - k < (1u << 20) ? n - k : 1u << 20);
		free(b);
	}
	return session_eom(s);
}

static int has_finding(const session *s, const char *name)
{
	for (size_t i = 0; i < session_finding_count(s); i++)
		if (strcmp(session_finding_name(s, i), name) == 0)
			return 1;
	return 0;
}

static void test_mailbox(const struct policy *pol)
{
	T_OK(fbcap_is_mailbox(pol, "<fbl@example.com>"), "ARF mailbox (case-insensitive)");
	T_OK(fbcap_is_mailbox(pol, "<RUA@Example.COM>"), "DMARC mailbox");
	T_OK(!fbcap_is_mailbox(pol, "<fbl@example.org>"), "another domain is not");
	T_OK(!fbcap_is_mailbox(pol, "<xfbl@example.com>"), "another local part is not");
	T_OK(!fbcap_is_mailbox(pol, "<>"), "null path is not");
	T_OK(!fbcap_is_mailbox(pol, "garbage"), "garbage is not");
}

static void test_copy(tm_env *e)
{
	session *s = session_new(e);
	session_connect(s, "client.example", "192.0.2.1");
	static const char *const fbl[] = { "<fbl@example.com>", NULL };
	static const char *const other[] = { "<bob@example.com>", NULL };
	size_t n = 0;
	message(s, DIR_INBOUND, fbl, 0);
	const char *p = session_feedback(s, &n);
	const char *want = "From: a@sender.example\r\nSubject: report\r\n\tfolded\r\n\r\nhello\r\n";
	T_OK(p != NULL && n == strlen(want) && memcmp(p, want, n) == 0, "the copy: header section, empty line, body");
	message(s, DIR_INBOUND, other, 0);
	T_OK(session_feedback(s, &n) == NULL, "other mail: no copy");
	message(s, DIR_OUTBOUND, fbl, 0);
	T_OK(session_feedback(s, &n) == NULL, "outbound mail: no copy");
	message(s, DIR_INBOUND, fbl, FBCAP_MAX + 1);
	T_OK(session_feedback(s, &n) == NULL, "past the cap: no copy");
	T_OK(has_finding(s, "feedback.report.too_large"), "past the cap: feedback.report.too_large");
	session_free(s);
}

static void test_discard(void)
{
	tm_env *e = env_with("discard");
	T_OK(e != NULL, "env (discard)");
	if (e == NULL)
		return;
	session *s = session_new(e);
	session_connect(s, "client.example", "192.0.2.1");
	static const char *const fbl[] = { "<fbl@example.com>", "<rua@example.com>", NULL };
	static const char *const mixed[] = { "<fbl@example.com>", "<bob@example.com>", NULL };
	T_INT(message(s, DIR_INBOUND, fbl, 0)->action, ACT_DISCARD, "discard: only report mailboxes");
	T_INT(message(s, DIR_INBOUND, mixed, 0)->action != ACT_DISCARD, 1, "not discarded: a person too");
	size_t n;
	T_OK(session_feedback(s, &n) != NULL, "the mixed message is still handed over");
	session_free(s);
	tm_env_unref(e);
}

int main(void)
{
	tm_env *e = env_with("deliver");
	T_OK(e != NULL, "env");
	if (e == NULL)
		return 1;
	test_mailbox(tm_env_policy(e));
	test_copy(e);
	tm_env_unref(e);
	test_discard();
	return t_done();
}
