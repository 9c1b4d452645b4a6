/*
 * json - a small streaming JSON writer into a buf. Strings are written from
 * (pointer, length); invalid UTF-8 bytes become U+FFFD so the output is
 * always valid JSON whatever the message contained.
 */
#ifndef TM_JSON_H
#define TM_JSON_H

#include <stddef.h>
#include "buf.h"

#define JSON_MAX_DEPTH 16

typedef struct jw {
	buf *b;
	int depth;
	int need_comma[JSON_MAX_DEPTH];
} jw;

void jw_init(jw *w, buf *b);
/* Every value call takes a key: a member name inside an object, NULL in an array or at the top. */
void jw_obj(jw *w, const char *key);
void jw_end_obj(jw *w);
void jw_arr(jw *w, const char *key);
void jw_end_arr(jw *w);
void jw_str(jw *w, const char *key, const char *s);       /* NULL writes null */
void jw_strn(jw *w, const char *key, const char *p, size_t n);
void jw_int(jw *w, const char *key, long long v);
void jw_bool(jw *w, const char *key, int v);
void jw_null(jw *w, const char *key);
/* json_escape - append (p,n) as a JSON string literal. */
void json_escape(buf *b, const char *p, size_t n);

#endif
