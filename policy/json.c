/*
 * json - streaming JSON writer; see json.h.
 */
#include <string.h>
#include "json.h"

void jw_init(jw *w, buf *b)
{
	memset(w, 0, sizeof(*w));
	w->b = b;
}

/* utf8_len - length of a valid UTF-8 sequence at p (1..4), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	unsigned cp;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) { len = 2; cp = p[0] & 0x1f; }
	else if ((p[0] & 0xf0) == 0xe0) { len = 3; cp = p[0] & 0x0f; }
	else if ((p[0] & 0xf8) == 0xf0) { len = 4; cp = p[0] & 0x07; }
	else return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	static const unsigned minv[] = { 0, 0, 0x80, 0x800, 0x10000 };
	if (cp < minv[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* json_escape - quote, escape controls, replace invalid UTF-8. */
void json_escape(buf *b, const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	buf_putc(b, '"');
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		if (c == '"' || c == '\\') {
			buf_putc(b, '\\');
			buf_putc(b, c);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			buf_printf(b, "\\u%04x", c);
			i++;
		} else {
			size_t l = utf8_len(u + i, n - i);
			if (l == 0) {
				buf_puts(b, "\\ufffd");
				i++;
			} else {
				buf_append(b, u + i, l);
				i += l;
			}
		}
	}
	buf_putc(b, '"');
}

/* prefix - comma and key before a value. */
static void prefix(jw *w, const char *key)
{
	if (w->need_comma[w->depth])
		buf_putc(w->b, ',');
	w->need_comma[w->depth] = 1;
	if (key) {
		json_escape(w->b, key, strlen(key));
		buf_putc(w->b, ':');
	}
}

/* open - start a container, bounded depth. */
static void open_c(jw *w, const char *key, char c)
{
	prefix(w, key);
	buf_putc(w->b, c);
	if (w->depth + 1 < JSON_MAX_DEPTH)
		w->depth++;
	w->need_comma[w->depth] = 0;
}

static void close_c(jw *w, char c)
{
	buf_putc(w->b, c);
	if (w->depth > 0)
		w->depth--;
}

void jw_obj(jw *w, const char *key) { open_c(w, key, '{'); }
void jw_end_obj(jw *w) { close_c(w, '}'); }
void jw_arr(jw *w, const char *key) { open_c(w, key, '['); }
void jw_end_arr(jw *w) { close_c(w, ']'); }

void jw_strn(jw *w, const char *key, const char *p, size_t n)
{
	prefix(w, key);
	json_escape(w->b, p, n);
}

void jw_str(jw *w, const char *key, const char *s)
{
	if (s == NULL) {
		jw_null(w, key);
		return;
	}
	jw_strn(w, key, s, strlen(s));
}

void jw_int(jw *w, const char *key, long long v)
{
	prefix(w, key);
	buf_printf(w->b, "%lld", v);
}

void jw_bool(jw *w, const char *key, int v)
{
	prefix(w, key);
	buf_puts(w->b, v ? "true" : "false");
}

void jw_null(jw *w, const char *key)
{
	prefix(w, key);
	buf_puts(w->b, "null");
}
