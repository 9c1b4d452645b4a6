/*
 * lex5322 - RFC 5322 lexical pieces on (ptr, len); see lex5322.h.
 *
 * Each piece is a loop over the input with a counter where the grammar
 * nests (comments), so hostile input costs linear time and no stack.
 */
#include <string.h>
#include "lex5322.h"

/* lex_is_atext - see lex5322.h. */
int lex_is_atext(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && c < 0x80 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* lex_is_atext8 - see lex5322.h. */
int lex_is_atext8(unsigned char c)
{
	return c >= 0x80 || lex_is_atext(c);
}

static int is_wsp_or_eol(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* lex_comment - see lex5322.h. */
int lex_comment(const char *p, size_t len, size_t *pos, size_t max_depth)
{
	size_t i = *pos, depth = 0;
	if (i >= len || p[i] != '(')
		return LEX_BAD;
	while (i < len) {
		char c = p[i++];
		if (c == '\\') {
			if (i >= len)
				break;         /* quotes nothing: the comment stays open */
			i++;
		} else if (c == '(') {
			if (++depth > max_depth) {
				*pos = len;
				return LEX_TOO_DEEP;
			}
		} else if (c == ')' && --depth == 0) {
			*pos = i;
			return LEX_OK;
		}
	}
	*pos = len;
	return LEX_UNCLOSED;
}

/* lex_cfws - see lex5322.h. */
int lex_cfws(const char *p, size_t len, size_t *pos, int *skipped)
{
	size_t i = *pos, start = *pos;
	int rc = LEX_OK;
	while (i < len && rc == LEX_OK) {
		if (is_wsp_or_eol(p[i]))
			i++;
		else if (p[i] == '(')
			rc = lex_comment(p, len, &i, LEX_COMMENT_DEPTH_MAX);
		else
			break;
	}
	*pos = i;
	if (skipped)
		*skipped = i != start;
	return rc;
}

/* lex_atom - see lex5322.h. */
size_t lex_atom(const char *p, size_t len, size_t i, int utf8)
{
	size_t s = i;
	while (i < len && (utf8 ? lex_is_atext8((unsigned char)p[i]) : lex_is_atext((unsigned char)p[i])))
		i++;
	return i - s;
}

/* lex_dot_atom_text - see lex5322.h. */
size_t lex_dot_atom_text(const char *p, size_t len, size_t i, int utf8)
{
	size_t start = i;
	for (;;) {
		size_t a = lex_atom(p, len, i, utf8);
		if (a == 0)
			return 0;          /* empty part: leading, trailing or double dot */
		i += a;
		if (i < len && p[i] == '.')
			i++;
		else
			return i - start;
	}
}

static int is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* put - one content byte into out (when given); LEX_TOO_LONG when full. */
static int put(char *out, size_t outsz, size_t *o, char c)
{
	if (out == NULL)
		return LEX_OK;
	if (*o + 1 >= outsz)
		return LEX_TOO_LONG;
	out[(*o)++] = c;
	return LEX_OK;
}

/* lex_qstring - see lex5322.h. */
int lex_qstring(const char *p, size_t len, size_t *pos, char *out, size_t outsz,
                size_t *olen, unsigned flags)
{
	size_t i = *pos + 1, o = 0;
	int rc = LEX_UNCLOSED;
	if (out && outsz == 0)
		return LEX_TOO_LONG;
	while (i < len) {
		char c = p[i++];
		if (c == '"') {
			rc = LEX_OK;
			break;
		}
		if (c == '\\') {
			if (i >= len)
				break;
			c = p[i++];
		} else if ((flags & LEX_Q_UNFOLD) && (c == '\r' || c == '\n')) {
			continue;
		}
		if ((flags & LEX_Q_STRICT) && is_ctl((unsigned char)c)) {
			rc = LEX_BAD;
			break;
		}
		if ((rc = put(out, outsz, &o, c)) != LEX_OK)
			break;
		rc = LEX_UNCLOSED;
	}
	if (out)
		out[o] = '\0';
	if (olen)
		*olen = o;
	*pos = rc == LEX_OK ? i : len;
	return rc;
}

/* lex_dliteral - see lex5322.h. */
int lex_dliteral(const char *p, size_t len, size_t *pos, int strict)
{
	size_t i = *pos + 1;
	while (i < len) {
		unsigned char c = (unsigned char)p[i++];
		if (c == ']') {
			*pos = i;
			return LEX_OK;
		}
		if (strict && (c <= 0x20 || c == 0x7f || c == '[' || c == '\\')) {
			*pos = len;
			return LEX_BAD;
		}
		if (c == '\\') {
			if (i >= len)
				break;
			i++;
		}
	}
	*pos = len;
	return LEX_UNCLOSED;
}

/* lex_field_name - see lex5322.h. */
int lex_field_name(const char *p, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c < 33 || c > 126 || c == ':')
			return 0;
	}
	return 1;
}
