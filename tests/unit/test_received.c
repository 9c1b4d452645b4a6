/*
 * test_received - received_parse on the Received: fields receiving servers
 * write, and on the comment forms it must step over (nested, quoted
 * parentheses, deeper than a TCP-info comment goes, unclosed).
 */
#include "t.h"
#include "received.h"

#define S(lit) lit, sizeof(lit) - 1

static void test_fields(void)
{
	struct received r;
	T_INT(received_parse(S("from mail.example.test (mail.example.test [192.0.2.1])\r\n\tby mx.test (Postfix)"
	                       " with ESMTPS id 1"), &r), 0, "postfix: parsed");
	T_STR(r.helo, "mail.example.test", "postfix: helo");
	T_STR(r.ip, "192.0.2.1", "postfix: ip");
	T_STR(r.by, "mx.test", "postfix: by");

	T_INT(received_parse(S("from h (x (nested (deeper)) [IPv6:2001:db8::1]) by mx.test"), &r), 0,
	      "nested comment: parsed");
	T_STR(r.ip, "2001:db8::1", "nested comment: ip");
	T_STR(r.by, "mx.test", "nested comment: by after it");

	T_INT(received_parse(S("from h (a \\) [192.0.2.7]) by mx.test"), &r), 0, "quoted paren: parsed");
	T_STR(r.ip, "192.0.2.7", "quoted paren: ip");
	T_STR(r.by, "mx.test", "quoted paren: by");

	T_INT(received_parse(S("from h ((((((((((deep)))))))))) by mx.test"), &r), -1,
	      "comment deeper than 8: no address");
	T_STR(r.by, "", "comment deeper than 8: the rest is not read");

	T_INT(received_parse(S("from h ([192.0.2.9] by mx.test"), &r), 0, "unclosed comment: address inside");
	T_STR(r.by, "", "unclosed comment: no by");

	T_INT(received_parse(S("by mx.test (Postfix, from userid 0) id 1"), &r), -1, "internal hop: no from");
	T_STR(r.by, "mx.test", "internal hop: by");
}

int main(void)
{
	test_fields();
	return t_done();
}
