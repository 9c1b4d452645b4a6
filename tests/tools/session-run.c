/*
 * session-run - drive the session API from an event script and print what
 * came out, for the scripted session tests (tests/sessions/NAME.script).
 *
 * Script lines (one event each; "\t" and "\r\n" escapes allowed in values):
 *   connect HOST IP | helo NAME | direction inbound|outbound | macro NAME VALUE
 *   mail PATH | rcpt PATH | header NAME: VALUE | eoh | body TEXT | eom | abort
 *   set KEY=VALUE   (configuration override, before the first event)
 *   # comment, expect ... (ignored here: the runner checks them)
 * Output after each eom: the report JSON line, then "verdict" lines:
 *   add NAME: VALUE / remove NAME INDEX / action ACTION ENFORCED / reply CODE X TEXT
 *   log LINE (the per-message log line, as the daemon logs it)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "session.h"

/* unescape - "\t", "\r", "\n", "\\" in place; returns the new length. */
static size_t unescape(char *s)
{
	size_t j = 0;
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '\\' && s[i + 1]) {
			char c = s[++i];
			s[j++] = c == 't' ? '\t' : c == 'r' ? '\r' : c == 'n' ? '\n' : c == '0' ? '\0' : c;
		} else {
			s[j++] = s[i];
		}
	}
	s[j] = '\0';
	return j;
}

/* print_verdict - the headers, removals and action of one message. */
static void print_verdict(const session *s, const struct verdict *v)
{
	buf *b = buf_new(1 << 20);
	session_report_json(s, b);
	printf("%s\n", buf_data(b));
	buf_free(b);
	for (size_t i = 0; i < v->nadd; i++)
		printf("add %s: %s\n", v->add[i].name, v->add[i].value);
	for (size_t i = 0; i < v->nremove; i++)
		printf("remove %s %u\n", v->remove[i].name, v->remove[i].index);
	printf("action %s %s\n", verdict_action_name(v->decided), verdict_action_name(v->action));
	if (v->rcode[0])
		printf("reply %s %s %s\n", v->rcode, v->xcode, v->reply);
	b = buf_new(1 << 20);
	session_log_line(s, b);
	printf("log %s\n", buf_data(b));
	buf_free(b);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: session-run CONFIG SCRIPT\n");
		return 2;
	}
	char err[512];
	conf *c = conf_load(argv[1], err, sizeof(err));
	FILE *f = fopen(argv[2], "r");
	if (c == NULL || f == NULL) {
		fprintf(stderr, "session-run: %s\n", c ? argv[2] : err);
		return 2;
	}
	char line[65536];
	tm_env *env = NULL;
	session *s = NULL;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *arg = strchr(line, ' ');
		if (arg)
			*arg++ = '\0';
		else
			arg = line + strlen(line);
		if (line[0] == '#' || line[0] == '\0' || strcmp(line, "expect") == 0)
			continue;
		if (strcmp(line, "set") == 0) {
			char *eq = strchr(arg, '=');
			if (eq == NULL || env)
				return 2;
			*eq = '\0';
			if (conf_set(c, arg, eq + 1, err, sizeof(err)) < 0) {
				fprintf(stderr, "session-run: %s\n", err);
				return 2;
			}
			continue;
		}
		if (env == NULL) {
			env = tm_env_new(c, err, sizeof(err));
			if (env == NULL || (s = session_new(env)) == NULL) {
				fprintf(stderr, "session-run: %s\n", err);
				return 2;
			}
		}
		if (strcmp(line, "connect") == 0) {
			char *ip = strchr(arg, ' ');
			if (ip)
				*ip++ = '\0';
			session_connect(s, arg, ip);
		} else if (strcmp(line, "helo") == 0) {
			session_helo(s, arg);
		} else if (strcmp(line, "direction") == 0) {
			session_set_direction(s, strcmp(arg, "outbound") == 0 ? DIR_OUTBOUND : DIR_INBOUND, "script");
		} else if (strcmp(line, "macro") == 0) {
			char *v = strchr(arg, ' ');
			if (v)
				*v++ = '\0';
			session_set_macro(s, arg, v ? v : "");
		} else if (strcmp(line, "mail") == 0) {
			session_mail(s, arg);
		} else if (strcmp(line, "rcpt") == 0) {
			session_rcpt(s, arg);
		} else if (strcmp(line, "header") == 0) {
			char *colon = strchr(arg, ':');
			if (colon == NULL)
				return 2;
			size_t vl = unescape(colon + 1);
			session_header(s, arg, (size_t)(colon - arg), colon + 1, vl);
		} else if (strcmp(line, "eoh") == 0) {
			session_eoh(s);
		} else if (strcmp(line, "body") == 0) {
			size_t n = unescape(arg);
			session_body(s, (const unsigned char *)arg, n);
		} else if (strcmp(line, "eom") == 0) {
			print_verdict(s, session_eom(s));
		} else if (strcmp(line, "abort") == 0) {
			session_abort(s);
		} else {
			fprintf(stderr, "session-run: unknown event %s\n", line);
			return 2;
		}
	}
	fclose(f);
	session_free(s);
	tm_env_unref(env);
	conf_unref(c);
	return 0;
}
