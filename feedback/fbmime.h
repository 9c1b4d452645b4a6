/*
 * fbmime - the MIME structure of a whole report message held in memory:
 * header fields, Content-Type parameters, multipart parts (nested, depth
 * capped), base64 and quoted-printable bodies (decoded by policy/mime's
 * mime_b64_decode and mime_qp_decode). All on (ptr, len); nothing is
 * written to the input. The daemon's streaming walker (policy/mime) never
 * keeps a body; a report needs its parts, so this is its own reader.
 */
#ifndef TM_FBMIME_H
#define TM_FBMIME_H

#include <stddef.h>

#define FBMIME_DEPTH_MAX 4        /* nested multiparts */
#define FBMIME_PARTS_MAX 64       /* leaf parts visited per message */
#define FBMIME_FIELD_MAX 998      /* an unfolded field value is cut here */

struct fbmime_part {
	const char *hdr;  size_t hlen;     /* the part's header section */
	const char *body; size_t blen;     /* its body, still encoded */
	char ctype[128];                   /* "type/subtype", lower case; "text/plain" if absent */
	int depth;
};

/* fbmime_split - the header section and the body of a message or part
 * (CRLF or LF; no blank line: everything is header). */
void fbmime_split(const char *p, size_t len, const char **hdr, size_t *hlen,
                  const char **body, size_t *blen);

/* fbmime_field - the unfolded value (leading white space removed, cut at
 * cap - 1) of the first field called name; its length, or -1 if absent. */
int fbmime_field(const char *hdr, size_t hlen, const char *name, char *out, size_t cap);

/* fbmime_next_field - iterate over fields: *pos starts at 0; name and the
 * unfolded value are copied (cut). 0 at the end of the section. */
int fbmime_next_field(const char *hdr, size_t hlen, size_t *pos, char *name, size_t ncap,
                      char *val, size_t vcap);

/* fbmime_param - a Content-Type parameter (token or quoted string). */
int fbmime_param(const char *value, const char *pname, char *out, size_t cap);

/* fbmime_walk - call leaf(arg, part) for every non-multipart part in order
 * (the message itself if it is not multipart); stops when leaf returns
 * nonzero, at FBMIME_PARTS_MAX or FBMIME_DEPTH_MAX. Returns the number of
 * leaves visited. */
int fbmime_walk(const char *msg, size_t len, int (*leaf)(void *arg, const struct fbmime_part *p),
                void *arg);

/* fbmime_decode - the body of a part decoded by its Content-Transfer-Encoding
 * (base64, quoted-printable; anything else as is) into a new malloc'ed
 * buffer of at most cap bytes (NUL-terminated). NULL when over the cap. */
char *fbmime_decode(const struct fbmime_part *p, size_t cap, size_t *outlen);

#endif
