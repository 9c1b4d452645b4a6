/*
 * unpack - the compressed forms of DMARC aggregate reports, with caps.
 *
 * Reporters send the XML plain, gzip-compressed (RFC 1952) or as a zip
 * archive with one member (stored or deflate). unpack_report() turns any of
 * the three into the XML bytes; the output never exceeds out_cap and the
 * decompressed size never exceeds UNPACK_RATIO_MAX times the input (once it
 * is past UNPACK_RATIO_FLOOR bytes), so a bomb stops early with a named
 * error instead of filling memory. The zip reader is our own (a few
 * records of the format, APPNOTE 4.3): only what real reporters send.
 */
#ifndef TM_UNPACK_H
#define TM_UNPACK_H

#include <stddef.h>

#define UNPACK_RATIO_MAX 200          /* decompressed / compressed */
#define UNPACK_RATIO_FLOOR (1u << 20) /* the ratio applies past 1 MiB of output */

enum unpack_kind { UNPACK_PLAIN, UNPACK_GZIP, UNPACK_ZIP };

/* unpack_kind_of - what the bytes look like (magic numbers). */
enum unpack_kind unpack_kind_of(const unsigned char *p, size_t len);

/* unpack_report - the XML of a plain, gzip or zip report in a new malloc'ed
 * buffer (NUL-terminated, *outlen without the NUL). NULL with *error set to
 * a finding name: feedback.unpack.too_large, feedback.unpack.bomb,
 * feedback.unpack.corrupt, feedback.unpack.zip_members,
 * feedback.unpack.zip_method. */
char *unpack_report(const unsigned char *p, size_t len, size_t out_cap, size_t *outlen,
                    const char **error);

#endif
